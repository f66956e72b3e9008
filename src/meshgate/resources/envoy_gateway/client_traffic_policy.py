"""Envoy Gateway's ClientTrafficPolicy: how a Gateway's proxies treat their clients (the
downstream side: the listener and its HTTP connection manager). Timeouts, a connection limit and
buffer limit, header handling (underscores, x-request-id, early request header changes), the
client address (X-Forwarded-For trusted hops, a custom header), the PROXY protocol, TLS
parameters and client certificate validation, HTTP/1.1 and HTTP/2 options.

It targets Gateways (and their listeners, by sectionName), nothing else. The settings are plain
values with nothing left to resolve, Envoy's enum names where Envoy has one; fields of Envoy
Gateway's API meshgate does not implement are warned about and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import PolicyTargets, check_fields, duration_ms, parse_targets, quantity_bytes

KIND = "ClientTrafficPolicy"
# tcpKeepalive would be socket options on the Envoy listener, which Envoy changes in place only with
# SO_REUSEPORT: meshgate binds without it (xds/listeners.py), so the live proxy would refuse them.
_UNSUPPORTED_SPEC = ("http3", "tcpKeepalive")
_ESCAPED_SLASHES = {"KeepUnchanged": "KEEP_UNCHANGED", "RejectRequest": "REJECT_REQUEST",
                    "UnescapeAndForward": "UNESCAPE_AND_FORWARD", "UnescapeAndRedirect": "UNESCAPE_AND_REDIRECT"}
_UNDERSCORES = {"Allow": "ALLOW", "RejectRequest": "REJECT_REQUEST", "DropHeader": "DROP_HEADER"}
_TLS_VERSIONS = {"Auto": "TLS_AUTO", "1.0": "TLSv1_0", "1.1": "TLSv1_1", "1.2": "TLSv1_2", "1.3": "TLSv1_3"}
_XFCC_MODES = {"Sanitize": "SANITIZE", "ForwardOnly": "FORWARD_ONLY", "AppendForward": "APPEND_FORWARD",
               "SanitizeSet": "SANITIZE_SET", "AlwaysForwardOnly": "ALWAYS_FORWARD_ONLY"}
_XFCC_DETAILS = {"Subject": "subject", "Cert": "cert", "Chain": "chain", "DNS": "dns", "URI": "uri"}
_VERSION_ORDER = ("TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3")


@dataclass(frozen=True, slots=True)
class CaRef:
    """tls.clientValidation.caCertificateRefs entry (namespace None: the policy's)."""

    kind: str
    name: str
    namespace: str | None = None
    group: str = ""


@dataclass(frozen=True, slots=True)
class ClientTLS:
    """tls: Envoy's TLS version names (TLSv1_2...), cipher suites, curves, ALPN protocols, and
    client validation (CA references; `optional`: a client without a certificate is let in)."""

    min_version: str | None = None
    max_version: str | None = None
    ciphers: tuple[str, ...] = ()
    ecdh_curves: tuple[str, ...] = ()
    alpn_protocols: tuple[str, ...] | None = None
    ca_refs: tuple[CaRef, ...] = ()
    validation_optional: bool = False


@dataclass(frozen=True, slots=True)
class ClientTrafficPolicy:
    """One ClientTrafficPolicy, read (None: the policy does not say)."""

    meta: Meta
    source: Source
    targets: PolicyTargets
    request_received_timeout_ms: int | None = None
    http_idle_timeout_ms: int | None = None
    tcp_idle_timeout_ms: int | None = None
    connection_limit: int | None = None
    buffer_limit_bytes: int | None = None
    headers_with_underscores: str | None = None  # Envoy's ALLOW, REJECT_REQUEST, DROP_HEADER
    preserve_request_id: bool | None = None
    early_set: tuple[tuple[str, str], ...] = ()
    early_add: tuple[tuple[str, str], ...] = ()
    early_remove: tuple[str, ...] = ()
    forward_client_cert: str | None = None  # Envoy's SANITIZE, FORWARD_ONLY, APPEND_FORWARD...
    client_cert_details: tuple[str, ...] = ()  # subject, cert, chain, dns, uri
    xff_trusted_hops: int | None = None
    custom_header: str | None = None
    custom_header_fail_closed: bool = False
    proxy_protocol: bool = False
    proxy_protocol_optional: bool = False
    tls: ClientTLS | None = None
    http1_preserve_case: bool = False
    http1_trailers: bool = False
    http2_stream_window: int | None = None
    http2_max_streams: int | None = None
    escaped_slashes: str | None = None  # Envoy's path_with_escaped_slashes_action (KEEP_UNCHANGED...)
    merge_slashes: bool | None = None
    health_check_path: str | None = None
    grpc_web: bool = False  # grpc.enableWeb: gRPC-Web clients translated to gRPC
    scheme_match_backend: bool = False  # scheme MatchBackend: :scheme as the backend connection's
    kind = KIND


def _headers(f: Fields) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """An HTTPHeaderFilter's set, add and remove."""
    check_fields(f, ("set", "add", "remove"), ("addIfAbsent", "removeOnMatch"))
    out: list[list[tuple[str, str]]] = [[], []]
    for i, key in enumerate(("set", "add")):
        for hf in f.maps(key, max_items=64):
            name = hf.str("name", required=True, min_len=1, check=formats.header_name)
            value = hf.str("value", required=True)
            if name is not None and value is not None:
                out[i].append((name, value))
    remove = tuple(f.strs("remove", check=formats.header_name) or ())
    return tuple(out[0]), tuple(out[1]), remove


def _tls(f: Fields) -> ClientTLS:
    check_fields(f, ("minVersion", "maxVersion", "ciphers", "ecdhCurves", "alpnProtocols", "clientValidation"),
                 ("signatureAlgorithms", "session", "fingerprints"))
    low = f.str("minVersion", enum=tuple(_TLS_VERSIONS))
    high = f.str("maxVersion", enum=tuple(_TLS_VERSIONS))
    min_v = _TLS_VERSIONS[low] if low is not None else None
    max_v = _TLS_VERSIONS[high] if high is not None else None
    if min_v in _VERSION_ORDER and max_v in _VERSION_ORDER and _VERSION_ORDER.index(min_v) > _VERSION_ORDER.index(max_v):
        f.error("minVersion", f"minVersion {low} is above maxVersion {high}")
        min_v = max_v = None
    alpn = f.strs("alpnProtocols", check=lambda v: None if v in ("h2", "http/1.0", "http/1.1")
                  else "must be h2, http/1.1 or http/1.0")
    ca_refs: list[CaRef] = []
    optional = False
    vf = f.map("clientValidation")
    if vf is not None:
        check_fields(vf, ("caCertificateRefs", "optional"),
                     ("mode", "spkiHashes", "certificateHashes", "subjectAltNames", "crl", "allowExpiredCertificate"))
        optional = bool(vf.bool("optional", default=False))
        for rf in vf.maps("caCertificateRefs", max_items=8):
            kind = rf.str("kind", default="Secret", enum=("Secret", "ConfigMap"))
            name = rf.str("name", required=True, min_len=1)
            group = rf.str("group", default="") or ""
            if group != "":
                rf.error("group", f"invalid value {group!r}: must be the core group (\"\")")
                continue
            if kind is not None and name is not None:
                ca_refs.append(CaRef(kind, name, rf.str("namespace"), group))
        if not ca_refs and not vf.has("caCertificateRefs"):
            vf.error("caCertificateRefs", "required: meshgate validates client certificates against CA certificates")
    return ClientTLS(min_v, max_v, tuple(f.strs("ciphers") or ()), tuple(f.strs("ecdhCurves") or ()),
                     tuple(alpn) if alpn is not None else None, tuple(ca_refs), optional)


def _gateway_targets(spec: Fields, targets: PolicyTargets) -> PolicyTargets:
    """Only Gateways (Envoy Gateway also allows ListenerSets, which meshgate does not target yet)."""
    refs = []
    for ref in targets.refs:
        if ref.kind != "Gateway":
            spec.error("targetRefs", f"{KIND} targets Gateways (and their listeners by sectionName), not a {ref.kind}")
            continue
        refs.append(ref)
    selectors = []
    for sel in targets.selectors:
        if sel.kind != "Gateway":
            spec.error("targetSelectors", f"{KIND} selects Gateways only, not {sel.kind}s")
            continue
        selectors.append(sel)
    return PolicyTargets(tuple(refs), tuple(selectors))


def parse_client_traffic_policy(f: Fields, meta: Meta, source: Source) -> ClientTrafficPolicy:
    """ClientTrafficPolicy.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return ClientTrafficPolicy(meta, source, PolicyTargets())
    check_fields(spec, ("targetRef", "targetRefs", "targetSelectors", "timeout", "connection", "headers",
                        "clientIPDetection", "enableProxyProtocol", "proxyProtocol", "tls", "http1", "http2",
                        "path", "healthCheck", "grpc", "scheme"),
                 _UNSUPPORTED_SPEC)
    targets = _gateway_targets(spec, parse_targets(spec))
    values: dict = {}
    tf = spec.map("timeout")
    if tf is not None:
        check_fields(tf, ("tcp", "http"))
        tcp = tf.map("tcp")
        if tcp is not None:
            check_fields(tcp, ("idleTimeout",), ("tlsHandshakeTimeout", "connectionInspectionTimeout"))
            values["tcp_idle_timeout_ms"] = duration_ms(tcp, "idleTimeout")
        http = tf.map("http")
        if http is not None:
            check_fields(http, ("requestReceivedTimeout", "idleTimeout"),
                         ("requestHeadersReceivedTimeout", "streamIdleTimeout"))
            values["request_received_timeout_ms"] = duration_ms(http, "requestReceivedTimeout")
            values["http_idle_timeout_ms"] = duration_ms(http, "idleTimeout")
    cf = spec.map("connection")
    if cf is not None:
        check_fields(cf, ("connectionLimit", "bufferLimit"), ("socketBufferLimit", "maxAcceptPerSocketEvent"))
        lf = cf.map("connectionLimit")
        if lf is not None:
            check_fields(lf, ("value",), ("closeDelay", "maxConnectionDuration", "maxRequestsPerConnection",
                                          "maxStreamDuration"))
            values["connection_limit"] = lf.int("value", required=True, min=1)
        values["buffer_limit_bytes"] = quantity_bytes(cf, "bufferLimit", minimum=1, maximum=2**32 - 1)
    hf = spec.map("headers")
    if hf is not None:
        check_fields(hf, ("withUnderscoresAction", "preserveXRequestID", "earlyRequestHeaders", "xForwardedClientCert"),
                     ("enableEnvoyHeaders", "disableRateLimitHeaders", "requestID",
                      "lateResponseHeaders", "host", "maxRequestHeaderLimit"))
        xfcc = hf.map("xForwardedClientCert")
        if xfcc is not None:
            check_fields(xfcc, ("mode", "certDetailsToAdd"))
            mode = xfcc.str("mode", default="Sanitize", enum=tuple(_XFCC_MODES))
            details = xfcc.strs("certDetailsToAdd", check=lambda v: None if v in _XFCC_DETAILS
                                else "must be one of Subject, Cert, Chain, DNS, URI") or []
            if details and mode not in ("AppendForward", "SanitizeSet"):
                xfcc.error("certDetailsToAdd", "only with mode AppendForward or SanitizeSet")
            elif mode is not None:
                values["forward_client_cert"] = _XFCC_MODES[mode]
                values["client_cert_details"] = tuple(dict.fromkeys(_XFCC_DETAILS[d] for d in details))
        action = hf.str("withUnderscoresAction", enum=tuple(_UNDERSCORES))
        values["headers_with_underscores"] = _UNDERSCORES[action] if action is not None else None
        values["preserve_request_id"] = hf.bool("preserveXRequestID")
        ef = hf.map("earlyRequestHeaders")
        if ef is not None:
            values["early_set"], values["early_add"], values["early_remove"] = _headers(ef)
    df = spec.map("clientIPDetection")
    if df is not None:
        check_fields(df, ("xForwardedFor", "customHeader"), ("directSourceIP",))
        xf = df.map("xForwardedFor")
        hdr = df.map("customHeader")
        if xf is not None and hdr is not None:
            df.error(None, "give xForwardedFor or customHeader, not both")
        elif xf is not None:
            check_fields(xf, ("numTrustedHops",), ("trustedCIDRs", "disableXForwardedForAppend"))
            values["xff_trusted_hops"] = xf.int("numTrustedHops", min=0, max=2**32 - 1)
        elif hdr is not None:
            check_fields(hdr, ("name", "failClosed"))
            values["custom_header"] = hdr.str("name", required=True, min_len=1, check=formats.header_name)
            values["custom_header_fail_closed"] = bool(hdr.bool("failClosed", default=False))
    legacy = spec.bool("enableProxyProtocol")
    pf = spec.map("proxyProtocol")
    if pf is not None:
        check_fields(pf, ("optional",))
        values["proxy_protocol"] = True
        values["proxy_protocol_optional"] = bool(pf.bool("optional", default=False))
    elif legacy:
        values["proxy_protocol"] = True
    tls = spec.map("tls")
    if tls is not None:
        values["tls"] = _tls(tls)
    h1 = spec.map("http1")
    if h1 is not None:
        check_fields(h1, ("preserveHeaderCase", "enableTrailers"),
                     ("http10", "disableSafeMaxConnectionDuration", "ignoredUpgradeTypes"))
        values["http1_preserve_case"] = bool(h1.bool("preserveHeaderCase", default=False))
        values["http1_trailers"] = bool(h1.bool("enableTrailers", default=False))
    h2 = spec.map("http2")
    if h2 is not None:
        check_fields(h2, ("initialStreamWindowSize", "maxConcurrentStreams"),
                     ("initialConnectionWindowSize", "onInvalidMessage", "connectionKeepalive"))
        values["http2_stream_window"] = quantity_bytes(h2, "initialStreamWindowSize", minimum=65535,
                                                       maximum=2**31 - 1)
        values["http2_max_streams"] = h2.int("maxConcurrentStreams", min=1, max=2**31 - 1)
    pf = spec.map("path")
    if pf is not None:
        check_fields(pf, ("escapedSlashesAction", "disableMergeSlashes"))
        action = pf.str("escapedSlashesAction", enum=tuple(_ESCAPED_SLASHES))
        values["escaped_slashes"] = _ESCAPED_SLASHES[action] if action is not None else None
        disable = pf.bool("disableMergeSlashes")
        values["merge_slashes"] = None if disable is None else not disable
    cf = spec.map("healthCheck")
    if cf is not None:
        check_fields(cf, ("path",))
        values["health_check_path"] = cf.str("path", required=True, min_len=1, max_len=1024,
                                             check=lambda v: None if v.startswith("/") else "must start with /")
    gf = spec.map("grpc")
    if gf is not None:
        check_fields(gf, ("enableWeb",))
        values["grpc_web"] = gf.bool("enableWeb")
    values["scheme_match_backend"] = spec.str("scheme", enum=("Preserve", "MatchBackend")) == "MatchBackend"
    return ClientTrafficPolicy(meta, source, targets, **{k: v for k, v in values.items() if v is not None})
