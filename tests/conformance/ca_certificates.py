"""The CAs the suite publishes as ConfigMaps and the Secrets it signs with them (suite.go:
MustCreateCACertConfigMap, MustCreateCASignedCertSecret), worked out without a cluster.

The BackendTLSPolicy tests trust `tls-checks-ca-certificate` (key ca.crt) to verify the
tls-backend Pods, which serve `tls-checks-certificate` signed by it, for abc.example.com,
other.example.com and the URI spiffe://abc.example.com/test-identity; `mismatch-ca-certificate`
is a CA that signed nothing (validation against it must fail). The TLSRoute tests trust the same
CA for the tcp-backend Pods' `tls-passthrough-checks-certificate` (abc.example.com, in the infra
and app-backend namespaces) and for `tls-terminate-checks-certificate` (tls.example.com), the
certificate of their Terminate listeners.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .cluster import Certificate

INFRA = "gateway-conformance-infra"
APP_BACKEND = "gateway-conformance-app-backend"
WEB_BACKEND = "gateway-conformance-web-backend"
# ConfigMaps holding a CA certificate (key ca.crt), by (namespace, name): every CA the suite
# creates at start-up (suite.go: MustCreateCACertConfigMap).
CA_CONFIG_MAPS: tuple[tuple[str, str], ...] = (
    (INFRA, "tls-checks-ca-certificate"),
    (INFRA, "mismatch-ca-certificate"),
    (WEB_BACKEND, "web-backend-cm"),
    (INFRA, "tls-validity-checks-ca-certificate"),
    (INFRA, "tls-validity-checks-per-port-ca-certificate"),
)
# Client certificate Secrets signed by one of those CAs (MustCreateCASignedClientCertSecret), by
# the CA's ConfigMap: the frontend client certificate validation tests present them, and a
# Gateway presents one to its backends.
CLIENT_SIGNED: dict[tuple[str, str], tuple[str, str]] = {
    (INFRA, "tls-validity-checks-ca-certificate"): (INFRA, "tls-validity-checks-client-certificate"),
    (INFRA, "tls-validity-checks-per-port-ca-certificate"): (INFRA, "tls-validity-checks-per-port-client-certificate"),
    # The one a Gateway presents to backends (GatewayTLSBackendClientCertificate, spec.tls.backend),
    # which the tls-backend-with-client-cert-validation Pod verifies against the same CA.
    (INFRA, "tls-checks-ca-certificate"): (INFRA, "tls-checks-client-certificate"),
}
# Secrets signed by one of those CAs: (namespace, name) → (the CA's ConfigMap, the names signed).
CA_SIGNED: dict[tuple[str, str], tuple[tuple[str, str], tuple[str, ...]]] = {
    (INFRA, "tls-checks-certificate"): (
        (INFRA, "tls-checks-ca-certificate"),
        ("abc.example.com", "spiffe://abc.example.com/test-identity", "other.example.com")),
    (INFRA, "tls-passthrough-checks-certificate"): ((INFRA, "tls-checks-ca-certificate"), ("abc.example.com",)),
    (APP_BACKEND, "tls-passthrough-checks-certificate"): ((INFRA, "tls-checks-ca-certificate"), ("abc.example.com",)),
    (INFRA, "tls-terminate-checks-certificate"): ((INFRA, "tls-checks-ca-certificate"), ("tls.example.com",)),
}


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def authority(now: datetime.datetime | None = None) -> Certificate:
    """A self-signed CA certificate and its key."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gateway-conformance"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "gateway-conformance CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Certificate(cert.public_bytes(serialization.Encoding.PEM).decode(), _pem(key))


def ca_signed(ca: Certificate, names: tuple[str, ...], now: datetime.datetime | None = None) -> Certificate:
    """A server certificate for `names` (a name with "://" becomes a URI SAN, others DNS SANs),
    signed by `ca`."""
    now = now or datetime.datetime.now(datetime.UTC)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.encode())
    ca_key = serialization.load_pem_private_key(ca.key_pem.encode(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(n) if "://" in n else x509.DNSName(n)
                                    for n in names]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return Certificate(cert.public_bytes(serialization.Encoding.PEM).decode(), _pem(key))


def client_certificate(ca: Certificate, now: datetime.datetime | None = None) -> Certificate:
    """A client certificate signed by `ca` (MustCreateCASignedClientCertSecret: client auth, no SAN)."""
    now = now or datetime.datetime.now(datetime.UTC)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.encode())
    ca_key = serialization.load_pem_private_key(ca.key_pem.encode(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kubernetes Gateway API"),
                                       x509.NameAttribute(NameOID.COMMON_NAME, "default")])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    return Certificate(cert.public_bytes(serialization.Encoding.PEM).decode(),
                       key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode())


def ca_config_map(namespace: str, name: str, ca: Certificate) -> dict:
    """The ConfigMap publishing `ca`'s certificate under ca.crt."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": {"ca.crt": ca.cert_pem}}
