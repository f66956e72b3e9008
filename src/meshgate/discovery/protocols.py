"""Which HTTP protocol to speak to a service port, from its appProtocol or name (as Istio reads them)."""

from __future__ import annotations

from .model import PortModel

HTTP1 = "http1"
HTTP2 = "h2c"  # HTTP/2 without TLS

_APP_PROTOCOLS = {
    "http": HTTP1,
    "kubernetes.io/ws": HTTP1,
    "kubernetes.io/h2c": HTTP2,
    "http2": HTTP2,
    "h2c": HTTP2,
    "grpc": HTTP2,
    "grpc-web": HTTP1,
}
# appProtocols that need TLS to the backend: HTTP/1.1 over the TLS a BackendTLSPolicy originates,
# unusable without one.
_NEEDS_TLS = {"kubernetes.io/wss", "https", "tls"}


def upstream_protocol(port: PortModel, tls: bool = False) -> str | None:
    """HTTP1 or HTTP2 for a port; None when its appProtocol needs what meshgate cannot do (TLS to
    the backend, unless `tls`: a BackendTLSPolicy targets the port)."""
    app = (port.app_protocol or "").lower()
    if app in _NEEDS_TLS:
        return HTTP1 if tls else None
    if app in _APP_PROTOCOLS:
        return _APP_PROTOCOLS[app]
    if app:
        return HTTP1  # other appProtocols (mesh-specific names) carry HTTP/1.1 by default
    # No appProtocol: Istio's port-name convention, "<protocol>[-<suffix>]".
    name = port.name.lower()
    if name == "grpc-web" or name.startswith("grpc-web-"):
        return HTTP1
    prefix = name.split("-", 1)[0]
    return HTTP2 if prefix in ("grpc", "http2", "h2c") else HTTP1


def negotiated_by_alpn(port: PortModel) -> bool:
    """Whether the port leaves its HTTP version open (no appProtocol but https or tls, and no
    protocol-named port): over TLS, the version is then negotiated by ALPN (h2 or http/1.1)."""
    app = (port.app_protocol or "").lower()
    if app:
        return app in ("https", "tls")
    prefix = port.name.lower().split("-", 1)[0]
    return prefix not in ("http", "grpc", "http2", "h2c")
