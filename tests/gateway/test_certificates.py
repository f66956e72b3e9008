"""certificate_problem: why a kubernetes.io/tls Secret cannot serve a listener."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meshgate.gateway.certificates import TLS_SECRET_TYPE, certificate_problem
from meshgate.resources.core import Secret
from meshgate.resources.meta import Meta, Source

# A well-formed EC key on secp112r1, a curve OpenSSL knows and cryptography refuses to load
# (made with `openssl ecparam -name secp112r1 -genkey -noout`).
SECP112R1_KEY = b"""-----BEGIN EC PRIVATE KEY-----
MD4CAQEEDj8z2c5YeIDdE/EzeWW4oAcGBSuBBAAGoSADHgAEDY6pZeEhAueRRCd5
BukG2WweFB3aGQZBER9CJA==
-----END EC PRIVATE KEY-----
"""


def _pair() -> tuple[bytes, bytes]:
    """A self-signed P-256 certificate and its key, PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _secret(crt: bytes, key: bytes, type_: str = TLS_SECRET_TYPE) -> Secret:
    return Secret(Meta("tls", "infra"), Source("secrets.yaml", 1), type_, {"tls.crt": crt, "tls.key": key})


def test_a_usable_pair_has_no_problem() -> None:
    assert certificate_problem(_secret(*_pair())) is None


@pytest.mark.parametrize(("key", "problem"), [
    (b"not a key", "tls.key is not an unencrypted PEM private key"),
    # cryptography's UnsupportedAlgorithm is neither ValueError nor TypeError: it has its own message.
    (SECP112R1_KEY, "tls.key cannot be used: Curve 1.3.132.0.6 is not supported"),
], ids=["garbage", "unsupported curve"])
def test_unusable_keys_are_explained(key: bytes, problem: str) -> None:
    crt, _ = _pair()
    assert certificate_problem(_secret(crt, key)) == problem


def test_other_secret_types_and_missing_data() -> None:
    crt, key = _pair()
    assert certificate_problem(_secret(crt, key, "Opaque")) == "Secret type is 'Opaque', not 'kubernetes.io/tls'"
    assert certificate_problem(_secret(b"", key)) == "Secret must have tls.crt and tls.key"
    assert certificate_problem(_secret(b"garbage", key)) == "tls.crt is not a PEM certificate"
