"""TLS for the echo backend: the server context echo-basic builds from TLS_SERVER_CERT /
TLS_SERVER_PRIVKEY (and TLS_CLIENT_CACERTS: client certificates verified when given, not
required), and the handshake each connection does in its own thread."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

from .answer import record_sni

HANDSHAKE_TIMEOUT = 10.0


def server_context(cert_file: str, key_file: str, client_ca: str = "",
                   alpn: Sequence[str] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A server context with this certificate and key (PEM files), offering `alpn` (Go's HTTPS
    server offers h2 and http/1.1), remembering each client's SNI for the echo answer."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    if client_ca:
        # Go's VerifyClientCertIfGiven: a certificate is checked against the CA when sent, not required.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(client_ca)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    record_sni(ctx)
    return ctx


def handshake(sock: ssl.SSLSocket) -> bool:
    """Complete the server handshake of an accepted connection (bounded); False when it failed."""
    previous = sock.gettimeout()
    sock.settimeout(HANDSHAKE_TIMEOUT)
    try:
        sock.do_handshake()
    except (OSError, ssl.SSLError):
        return False
    finally:
        try:
            sock.settimeout(previous)
        except OSError:
            pass
    return True
