"""The suite's round tripper: one HTTP(S) request to a Gateway address, redirects not followed
(h2c with prior knowledge when the request asks for it: stream_clients.h2c_round_trip).

Like the upstream roundtripper, the Host header is the request's host when given (port and all),
else the Gateway address without a default port; HTTPS uses the host (without port) as SNI and
trusts only the certificate of the Secret named by the test.
"""

from __future__ import annotations

import http.client
import json
import ssl

from .expect import H2C_PRIOR_KNOWLEDGE, Request
from .stream_clients import h2c_round_trip
from .suite import Reply

TIMEOUT = 10.0


def host_header(address: str, request: Request, https: bool) -> str:
    """The Host a request carries."""
    if request.host:
        return request.host
    host, _, port = address.rpartition(":")
    return host if port == ("443" if https else "80") else address


def round_trip(address: str, request: Request, cert_pem: str | None = None,
               echo_set_headers: dict[str, str] | None = None, server_name: str = "") -> Reply:
    """Send `request` to `address` ("ip:port"); with `cert_pem`, over TLS trusting that certificate,
    with `server_name` (else the Host without its port) as SNI."""
    ip, _, port = address.rpartition(":")
    https = cert_pem is not None
    host = host_header(address, request, https)
    if request.protocol == H2C_PRIOR_KNOWLEDGE and not https:
        return h2c_round_trip(address, request, host, echo_set_headers, TIMEOUT)
    if request.protocol not in ("", H2C_PRIOR_KNOWLEDGE):
        raise ValueError(f"request protocol {request.protocol!r} is not supported by this round tripper")
    if https:
        ctx = ssl.create_default_context(cadata=cert_pem)
        server_name = server_name or (host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host)
        conn: http.client.HTTPConnection = _SNIConnection(ip, int(port), server_name, ctx, TIMEOUT)
    else:
        conn = http.client.HTTPConnection(ip, int(port), timeout=TIMEOUT)
    try:
        conn.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        # Upstream always sends it, empty unless the test wants response headers set by the backend.
        conn.putheader("X-Echo-Set-Header", ",".join(f"{k}:{v}" for k, v in (echo_set_headers or {}).items()))
        for name, value in request.headers.items():
            conn.putheader(name, value)
        body = request.body.encode()
        if body or request.method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        data = resp.read()
        headers: dict[str, list[str]] = {}
        for name, value in resp.getheaders():
            headers.setdefault(name.lower(), []).append(value)
    finally:
        conn.close()
    echo = None
    if resp.status == 200 and headers.get("content-type") == ["application/json"]:
        try:
            echo = json.loads(data)
        except ValueError:
            echo = None
    return Reply(resp.status, headers, data, echo)


class _SNIConnection(http.client.HTTPSConnection):
    """HTTPS to an IP address with the test's host as SNI and for certificate checks."""

    def __init__(self, ip: str, port: int, server_name: str, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(ip, port, timeout=timeout, context=context)
        self._server_name = server_name
        self._ctx = context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._ctx.wrap_socket(self.sock, server_hostname=self._server_name)
