"""xDS over mutual TLS: what the server presents and trusts, and which Gateway a proxy may serve.

A proxy proves the Gateway it serves with its client certificate, signed by a CA the server
trusts (`--xds-client-ca`), through a URI SAN of the form

    spiffe://<trust-domain>/ns/<namespace>/gateway/<name>

(a SPIFFE ID, as Istio names workloads). The trust domain is not checked: trust comes from the
client CA alone. A certificate may name several Gateways; a stream whose node names a Gateway its
certificate does not is refused, so a proxy only ever receives its own Gateway's config and
secrets. Over plaintext (loopback, or `--insecure-xds`) there is no identity to check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

TRUST_DOMAIN = "meshgate.local"  # the trust domain of the certificates meshgate issues
_GATEWAY_ID = re.compile(r"spiffe://[^/]+/ns/([^/]+)/gateway/([^/]+)")


class IdentityRefused(Exception):
    """A proxy asked for a Gateway its client certificate does not name."""


def gateway_spiffe_id(gateway: str, trust_domain: str = TRUST_DOMAIN) -> str:
    """The URI SAN naming `gateway` ("namespace/name") in a proxy's client certificate."""
    namespace, _, name = gateway.partition("/")
    return f"spiffe://{trust_domain}/ns/{namespace}/gateway/{name}"


def gateway_of_uri(uri: str) -> str | None:
    """"namespace/name" when `uri` is a Gateway's SPIFFE ID, else None."""
    m = _GATEWAY_ID.fullmatch(uri)
    return f"{m.group(1)}/{m.group(2)}" if m else None


def certificate_gateways(pem: bytes) -> frozenset[str]:
    """The Gateways a PEM certificate names in its URI SANs (none when it has no SAN extension)."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    return frozenset(g for uri in san.get_values_for_type(x509.UniformResourceIdentifier)
                     if (g := gateway_of_uri(uri)) is not None)


def peer_gateways(auth_context: Mapping[str, Iterable[bytes]]) -> frozenset[str] | None:
    """The Gateways a gRPC peer may serve, from its verified client certificate; None when the
    connection is not TLS (nothing to check)."""
    if list(auth_context.get("transport_security_type", ())) != [b"ssl"]:
        return None
    pems = list(auth_context.get("x509_pem_cert", ()))
    return certificate_gateways(pems[0]) if pems else frozenset()


def check_gateway_claim(gateway: str, allowed: frozenset[str] | None) -> None:
    """IdentityRefused when a proxy whose certificate names `allowed` asks for `gateway`."""
    if allowed is not None and gateway not in allowed:
        named = ", ".join(sorted(allowed)) or "no Gateway (no URI SAN spiffe://<trust-domain>/ns/<ns>/gateway/<name>)"
        raise IdentityRefused(f"the node asks for gateway {gateway}, its client certificate names {named}")


def is_loopback(host: str) -> bool:
    """Whether serving on `host` reaches this machine only ("localhost", 127.0.0.0/8, ::1)."""
    host = host.removeprefix("[").removesuffix("]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name (or a wildcard written otherwise) may reach anything


@dataclass(frozen=True, slots=True)
class ServerTLS:
    """What the xDS server presents, and the CAs whose client certificates it accepts."""

    # (private key PEM, certificate chain PEM): the first is presented by default, another one
    # when the client's SNI names it (meshgate run's own server certificate, beside an operator's).
    key_pairs: tuple[tuple[bytes, bytes], ...]
    client_ca: bytes  # PEM, one or more CA certificates

    def credentials(self) -> grpc.ServerCredentials:
        """gRPC server credentials requiring a client certificate signed by `client_ca`."""
        return grpc.ssl_server_credentials(list(self.key_pairs), root_certificates=self.client_ca,
                                           require_client_auth=True)

    def including(self, other: ServerTLS) -> ServerTLS:
        """Both key pairs (this one's first) and both sets of client CAs."""
        return ServerTLS(self.key_pairs + other.key_pairs, self.client_ca + other.client_ca)


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def load_server_tls(cert: Path, key: Path, client_ca: Path) -> ServerTLS:
    """The server's certificate chain, key and client CA bundle from PEM files; ValueError with a
    one-line reason when one is missing or unusable."""
    chain, key_pem, ca = _read(cert, "xDS certificate"), _read(key, "xDS key"), _read(client_ca, "xDS client CA")
    try:
        leaf = x509.load_pem_x509_certificate(chain)
    except ValueError:
        raise ValueError(f"the xDS certificate {cert} is not a PEM certificate") from None
    try:
        private = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ValueError(f"the xDS key {key} is not an unencrypted PEM private key") from None
    if _spki(private.public_key()) != _spki(leaf.public_key()):
        raise ValueError(f"the xDS key {key} does not belong to the certificate {cert}")
    try:
        if not x509.load_pem_x509_certificates(ca):
            raise ValueError
    except ValueError:
        raise ValueError(f"the xDS client CA {client_ca} holds no PEM certificate") from None
    return ServerTLS(((key_pem, chain),), ca)
