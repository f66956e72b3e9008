"""Does a response meet an expectation? The rules of the upstream suite's CompareRoundTrip.

- Status: the expected code (or one of `statuses`); 408 and 504 count as the same timeout.
- 200 and 204 (CORS): the backend's echo must show the expected path (query included), host
  (when one is expected or was sent), method, namespace, headers (values joined with ","; names
  compared without case) and a pod whose name starts with the expected backend; absent headers
  absent. Expected response headers likewise. A reply that is no JSON echo (a CORS preflight the
  gateway answers itself) is taken, as upstream's round tripper takes it, for a request with the
  method sent and nothing else.
- Redirects: Location's host, port, scheme and path; an unset host accepts any, an unset scheme
  or path means "as requested", an unset port accepts none or the scheme's default.
- Anything else: the status code alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .expect import Expect
from .suite import Reply

TIMEOUTS = {408, 504}
REDIRECTS = {301, 302, 303, 307, 308}
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _echo_header(echo: dict, name: str) -> str | None:
    for k, v in (echo.get("headers") or {}).items():
        if k.lower() == name.lower():
            return ",".join(v) if isinstance(v, list) else str(v)
    return None


def compare(expected: Expect, reply: Reply, scheme: str) -> str | None:
    """None when `reply` meets `expected`, else why not."""
    want = expected.response
    if not want.accepts(reply.status) and not (
            reply.status in TIMEOUTS and set(want.statuses or (want.status,)) & TIMEOUTS):
        return f"expected status {want.statuses or want.status}, got {reply.status}"
    if reply.status in (200, 204):
        return _compare_echo(expected, reply)
    if reply.status in REDIRECTS and expected.redirect is not None:
        return _compare_redirect(expected, reply, scheme)
    return None


def _compare_echo(expected: Expect, reply: Reply) -> str | None:
    sent = expected.request
    # Upstream reads the echo only from an application/json reply; otherwise "assume it made the
    # right request": the method sent, every other field empty.
    echo = reply.echo if reply.echo is not None else {"method": sent.method, "path": "", "namespace": ""}
    er = expected.expected_request
    path = er.path if er is not None and er.path is not None else sent.path
    host = er.host if er is not None and er.host is not None else sent.host
    method = er.method if er is not None and er.method is not None else sent.method
    if host and echo.get("host") != host:
        return f"expected host {host!r}, got {echo.get('host')!r}"
    if echo.get("path") != path:
        return f"expected path {path!r}, got {echo.get('path')!r}"
    if echo.get("method") != method:
        return f"expected method {method!r}, got {echo.get('method')!r}"
    if echo.get("namespace") != expected.namespace:
        return f"expected namespace {expected.namespace!r}, got {echo.get('namespace')!r}"
    if er is not None:
        for name, value in er.headers.items():
            got = _echo_header(echo, name)
            if got is None:
                return f"expected request header {name} to be set (to {value!r})"
            if got != value:
                return f"expected request header {name}: {value!r}, got {got!r}"
        for name in er.absent_headers:
            if _echo_header(echo, name) is not None:
                return f"expected request header {name} to be absent, got {_echo_header(echo, name)!r}"
        got_sni = (echo.get("tls") or {}).get("serverName")
        if er.sni is not None and got_sni != er.sni:
            return f"expected SNI {er.sni!r} at the backend, got {got_sni!r}"
        peers = (echo.get("tls") or {}).get("peerCertificates") or []
        if er.client_cert is not None and er.client_cert not in peers:
            return "expected client certificate was not captured"
    for name, value in expected.response.headers.items():
        got = reply.header(name)
        if got is None:
            return f"expected response header {name} to be set (to {value!r})"
        if got != value:
            return f"expected response header {name}: {value!r}, got {got!r}"
    for name in expected.response.absent_headers:
        if reply.header(name) is not None:
            return f"expected response header {name} to be absent, got {reply.header(name)!r}"
    pod = echo.get("pod") or ""
    if not pod.startswith(expected.backend):
        return f"expected pod name to start with {expected.backend!r}, got {pod!r}"
    return None


def _compare_redirect(expected: Expect, reply: Reply, scheme: str) -> str | None:
    want = expected.redirect
    assert want is not None
    location = reply.header("location")
    if not location:
        return f"expected a Location header with the {reply.status}"
    got = urlsplit(location)
    got_scheme = got.scheme or scheme
    got_host = got.hostname or ""
    got_port = str(got.port) if got.port is not None else ""
    want_scheme = want.scheme or scheme
    if want.host and got_host != want.host:
        return f"expected redirect host {want.host!r}, got {got_host!r} ({location})"
    if want.port:
        if got_port != want.port:
            return f"expected redirect port {want.port!r}, got {got_port or 'none'!r} ({location})"
    elif got_port not in ("", DEFAULT_PORTS.get(got_scheme, "")):
        return f"expected no redirect port (or {got_scheme}'s default), got {got_port!r} ({location})"
    if got_scheme != want_scheme:
        return f"expected redirect scheme {want_scheme!r}, got {got_scheme!r} ({location})"
    want_path = want.path or expected.request.path.split("?", 1)[0]
    if got.path != want_path:
        return f"expected redirect path {want_path!r}, got {got.path!r} ({location})"
    return None
