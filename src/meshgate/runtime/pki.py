"""A small certificate authority for xDS mTLS: the one `meshgate run` keeps in its workdir for
its managed Envoys, and `meshgate certs` for operators.

Keys are ECDSA P-256, certificates X.509 v3 signed with SHA-256 (the `cryptography` library).
A Gateway's client certificate carries its SPIFFE ID as URI SAN (see `meshgate.xds.tls`); a
server certificate carries its names as DNS or IP SANs. Files holding keys are written 0600 (the
directory 0700), atomically, so that a crash never leaves half a key behind.

`meshgate run`'s directory (`<workdir>/pki`): `ca.crt`, `ca.key` (kept across runs while valid),
`server.crt`, `server.key` and `gateways/<namespace>_<name>.crt|.key` (issued at each start).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..xds.tls import TRUST_DOMAIN, ServerTLS, gateway_spiffe_id

CA_DAYS = 3650
LEAF_DAYS = 365
RENEW_BEFORE = datetime.timedelta(days=30)  # a CA this close to expiry is replaced
# The name meshgate run's Envoys ask for (SNI) and verify: it picks run's own server certificate
# when the operator's is presented by default.
MANAGED_SERVER_NAME = "xds.meshgate.local"


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key, PEM."""

    certificate: bytes
    private_key: bytes


@dataclass(frozen=True, slots=True)
class Authority:
    """A CA certificate and its key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_authority(common_name: str = "meshgate xDS CA", days: int = CA_DAYS) -> Authority:
    """A self-signed CA that may only sign leaf certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Authority(cert, key)


def load_authority(certificate: bytes, key: bytes, at: datetime.datetime | None = None) -> Authority:
    """A CA from PEM; ValueError when it is not a usable CA: not a CA, not an EC key, the key not
    its own, or expiring within RENEW_BEFORE of `at` (now)."""
    cert = x509.load_pem_x509_certificate(certificate)
    private = serialization.load_pem_private_key(key, password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an EC key")  # noqa: TRY004 - a bad file, not a bad call
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise ValueError("the CA key does not belong to the CA certificate")
    try:
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = False
    if not ca:
        raise ValueError("the CA certificate is not a CA")
    at = at or _now()
    if not cert.not_valid_before_utc <= at or cert.not_valid_after_utc - at < RENEW_BEFORE:
        raise ValueError(f"the CA certificate is valid from {cert.not_valid_before_utc} to {cert.not_valid_after_utc}")
    return Authority(cert, private)


def _sans(names: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n.removeprefix("[").removesuffix("]"))))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def _issue(ca: Authority, sans: list[x509.GeneralName], usage: x509.ObjectIdentifier, days: int,
           common_name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]))
            .issuer_name(ca.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(now + datetime.timedelta(days=days), ca.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue_client(ca: Authority, uris: Iterable[str], common_name: str, days: int = LEAF_DAYS) -> Issued:
    """A client certificate with `uris` as URI SANs."""
    return _issue(ca, [x509.UniformResourceIdentifier(u) for u in uris], ExtendedKeyUsageOID.CLIENT_AUTH, days,
                  common_name)


def issue_gateway(ca: Authority, gateway: str, trust_domain: str = TRUST_DOMAIN, days: int = LEAF_DAYS) -> Issued:
    """A client certificate for the proxies of `gateway` ("namespace/name"): its SPIFFE ID."""
    return issue_client(ca, [gateway_spiffe_id(gateway, trust_domain)], gateway, days)


def issue_server(ca: Authority, names: Iterable[str], days: int = LEAF_DAYS) -> Issued:
    """A server certificate for `names` (IP addresses become IP SANs, anything else DNS SANs)."""
    names = list(dict.fromkeys(names))
    if not names:
        raise ValueError("a server certificate needs at least one name")
    return _issue(ca, _sans(names), ExtendedKeyUsageOID.SERVER_AUTH, days, names[0])


# -- files --------------------------------------------------------------------------------------
def private_dir(path: Path) -> Path:
    """`path` created if needed and made 0700."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` as 0600, atomically (a temporary file in the same directory)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_issued(directory: Path, stem: str, issued: Issued) -> tuple[Path, Path]:
    """`<stem>.crt` and `<stem>.key` in `directory` (0700), both 0600; returns their paths."""
    private_dir(directory)
    return (write_private(directory / f"{stem}.crt", issued.certificate),
            write_private(directory / f"{stem}.key", issued.private_key))


def authority_in(directory: Path) -> Authority:
    """The CA kept in `directory` (ca.crt, ca.key) when present and valid, else a new one written
    there (a CA that cannot be used is replaced, never half reused)."""
    private_dir(directory)
    cert, key = directory / "ca.crt", directory / "ca.key"
    if cert.exists() and key.exists():
        try:
            return load_authority(cert.read_bytes(), key.read_bytes())
        except (OSError, ValueError, TypeError):
            pass
    ca = new_authority()
    write_private(key, ca.key_pem)
    write_private(cert, ca.certificate_pem)
    return ca


def gateway_stem(gateway: str) -> str:
    """A file name for a Gateway's certificate: "namespace_name"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", gateway.replace("/", "_"))


@dataclass(frozen=True, slots=True)
class ManagedPKI:
    """`meshgate run`'s CA in its workdir, the xDS server's certificate from it, and a client
    certificate per Gateway for the managed Envoys."""

    directory: Path
    authority: Authority
    server: Issued

    @classmethod
    def prepare(cls, directory: Path, server_names: Iterable[str]) -> ManagedPKI:
        """Reuse or create the CA in `directory`, and issue the server certificate for
        MANAGED_SERVER_NAME and `server_names` (the addresses Envoys reach the server at)."""
        ca = authority_in(directory)
        server = issue_server(ca, [MANAGED_SERVER_NAME, *server_names])
        write_issued(directory, "server", server)
        return cls(directory, ca, server)

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    def server_tls(self) -> ServerTLS:
        """The server's key pair and this CA as the client CA."""
        return ServerTLS(((self.server.private_key, self.server.certificate),), self.authority.certificate_pem)

    def gateway_files(self, gateway: str) -> tuple[Path, Path]:
        """Issue a client certificate for `gateway`; the paths of its certificate and key."""
        return write_issued(self.directory / "gateways", gateway_stem(gateway), issue_gateway(self.authority, gateway))
