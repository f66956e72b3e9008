"""The echo answer every HTTP flavour shares (HTTP/1.1, h2c, TLS): echo-basic's RequestAssertions as
JSON, the ``X-Echo-Set-Header`` response headers, and the TLS facts of a connection."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from .go import _text

# Go's tls.CipherSuiteName for the TLS 1.2 suites OpenSSL offers by default (TLS 1.3 names are the
# IANA names in both). A suite not listed keeps OpenSSL's name.
_GO_CIPHER_NAMES = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305": "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}
_SNI_ATTRIBUTE = "_meshgate_echo_sni"


@dataclass(frozen=True)
class PodContext:
    """What echo-basic reads from its environment and reports in every answer (its Context)."""

    namespace: str = ""
    ingress: str = ""
    service: str = ""
    pod: str = ""


def record_sni(context: ssl.SSLContext) -> None:
    """Make `context` remember on each server-side socket the SNI its client sent (Go's
    ConnectionState.ServerName); :func:`server_name` reads it back."""

    def remember(sock: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
        setattr(sock, _SNI_ATTRIBUTE, name or "")

    context.sni_callback = remember


def server_name(sock: ssl.SSLSocket | ssl.SSLObject) -> str:
    """The SNI the client sent on this connection ("" without one)."""
    return str(getattr(sock, _SNI_ATTRIBUTE, ""))


def go_cipher_name(openssl_name: str) -> str:
    """An OpenSSL cipher suite name as Go's tls.CipherSuiteName spells it."""
    return _GO_CIPHER_NAMES.get(openssl_name, openssl_name)


def tls_assertions(sock: ssl.SSLSocket | ssl.SSLObject) -> dict[str, Any]:
    """echo-basic's TLSAssertions of a connection: version, peer certificates (PEM; Python gives the
    leaf only), server name, negotiated ALPN protocol, cipher suite."""
    out: dict[str, Any] = {"version": sock.version() or ""}
    peer = sock.getpeercert(binary_form=True)
    if peer:
        out["peerCertificates"] = [ssl.DER_cert_to_PEM_cert(peer)]
    out["serverName"] = server_name(sock)
    alpn = sock.selected_alpn_protocol()
    if alpn:
        out["negotiatedProtocol"] = alpn
    cipher = sock.cipher()
    out["cipherSuite"] = go_cipher_name(cipher[0]) if cipher else ""
    return out


def assertions(*, target: str, host: str, method: str, proto: str, headers: dict[str, list[str]],
               context: PodContext, tls: dict[str, Any] | None = None) -> dict[str, Any]:
    """The echo body (before JSON): upstream's RequestAssertions with the Context inlined, plus
    ``sni`` (the SNI on a TLS port, else empty) and ``tls`` on a TLS port only."""
    doc: dict[str, Any] = {
        "path": _text(target),
        "host": _text(host),
        "method": _text(method),
        "proto": _text(proto),
        "headers": {name: [_text(v) for v in vals] for name, vals in sorted(headers.items())},
        "namespace": context.namespace,
        "ingress": context.ingress,
        "service": context.service,
        "pod": context.pod,
        "sni": tls.get("serverName", "") if tls else "",
    }
    if tls is not None:
        doc["tls"] = tls
    return doc


def echo_set_headers(specs: list[str]) -> dict[str, list[str]]:
    """The response headers ``X-Echo-Set-Header: Name:value, Other:value`` asks for (repeated names
    joined with a comma, as upstream's writeEchoResponseHeaders does)."""
    headers: dict[str, list[str]] = {}
    for spec in specs:
        for item in spec.split(","):
            name, _, value = item.strip(" \t\n\v\f\r").partition(":")
            if name.lower() in ("content-length", "transfer-encoding"):
                continue  # would break the framing of this very response
            if headers.get(name):
                headers[name][0] += "," + value.strip(" \t\n\v\f\r")
            else:
                headers[name] = [value]
    return headers
