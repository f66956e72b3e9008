"""Envoy Gateway's BackendTrafficPolicy: how a gateway's proxies treat the backends of the routes
it attaches to. Health checks (active HTTP, TCP and gRPC; passive, as outlier detection; the
panic threshold), circuit breakers, the load balancer and consistent hashing, TCP keepalive and
timeouts, retries, fault injection, rate limits (local, or global through meshgate's rate limit
service), the HTTP version and HTTP/2 settings of the connections to the backends
(useClientProtocol, http2), the PROXY protocol to them and their DNS resolution (proxyProtocol,
dns), request buffering (requestBuffer), responses replaced by status (responseOverride), response
compression (gzip, brotli, zstd), the name of a route's statistics (telemetry.metrics.routeStatName)
and its own tracing (telemetry.tracing).

The settings are plain values with nothing left to resolve; their types carry the field names of
the IR types they become (gateway/policies/backend_traffic.py), with Envoy Gateway's defaults
filled in. Fields of Envoy Gateway's API meshgate does not implement are warned about and
ignored; fields it does not define are errors (the strict check against its CRD's schema).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from ..tracing import CustomTag, custom_tags
from .common import PolicyTargets, check_fields, duration_ms, parse_targets, quantity_bytes

KIND = "BackendTrafficPolicy"
_UNSUPPORTED_SPEC = ("mergeType", "bandwidthLimit", "httpUpgrade", "routingType",
                     "connection", "responseCompression", "admissionControl", "adaptiveConcurrency")
_UNITS_S = {"Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400, "Month": 2_592_000, "Year": 31_536_000}
# The operators telemetry.metrics.routeStatName may hold (Envoy Gateway's routeStatSupportedOperators).
ROUTE_STAT_OPERATORS = ("%ROUTE_NAME%", "%ROUTE_NAMESPACE%", "%ROUTE_KIND%", "%ROUTE_RULE_NAME%")
_OPERATOR = re.compile(r"%[^%]*%")
# Envoy's retry_on conditions Envoy Gateway's retryOn.triggers name.
RETRY_TRIGGERS = ("5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx",
                  "refused-stream", "retriable-status-codes", "cancelled", "deadline-exceeded", "internal",
                  "resource-exhausted", "unavailable")


@dataclass(frozen=True, slots=True)
class ActiveHealthCheck:
    """healthCheck.active (durations in ms; payloads as bytes)."""

    type: str
    timeout_ms: int = 1000
    interval_ms: int = 3000
    unhealthy_threshold: int = 3
    healthy_threshold: int = 1
    path: str = "/"
    method: str = "GET"
    host: str = ""
    expected_statuses: tuple[int, ...] = (200,)
    expected_response: bytes | None = None
    send: bytes | None = None
    grpc_service: str = ""


@dataclass(frozen=True, slots=True)
class PassiveHealthCheck:
    """healthCheck.passive, Envoy Gateway's defaults filled in."""

    consecutive_5xx: int | None = None
    consecutive_gateway_errors: int | None = None
    split_external_local_origin_errors: bool = False
    consecutive_local_origin_failures: int | None = None
    interval_ms: int | None = None
    base_ejection_time_ms: int | None = None
    max_ejection_percent: int | None = None
    failure_percentage: int | None = None  # failurePercentageThreshold
    always_eject_one: bool = False  # alwaysEjectOneEndpoint


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    """loadBalancer: the algorithm (Envoy's name), for ConsistentHash Maglev's table size, and
    for RoundRobin and LeastRequest the slow start window (ms)."""

    algorithm: str
    maglev_table_size: int | None = None
    slow_start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class HashOn:
    """loadBalancer.consistentHash: source_ip, header, cookie or query_parameter `name`."""

    kind: str
    name: str = ""
    path: str = ""
    ttl_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Keepalive:
    """tcpKeepalive (ms)."""

    probes: int | None = None
    time_ms: int | None = None
    interval_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    """circuitBreaker, timeout.tcp and timeout.http's connection limits, tcpKeepalive."""

    max_connections: int | None = None
    connect_timeout_ms: int | None = None
    keepalive: Keepalive | None = None
    max_connection_duration_ms: int | None = None
    max_pending_requests: int | None = None
    max_requests: int | None = None
    max_retries: int | None = None
    max_requests_per_connection: int | None = None
    idle_timeout_ms: int | None = None
    max_connections_per_endpoint: int | None = None  # circuitBreaker.perEndpoint.maxConnections


@dataclass(frozen=True, slots=True)
class Retry:
    """retry, Envoy Gateway's defaults filled in (`triggers` are Envoy's retry_on names)."""

    num_retries: int
    status_codes: tuple[int, ...] = ()
    backoff_ms: int | None = None
    triggers: tuple[str, ...] = ()
    per_try_timeout_ms: int | None = None
    max_backoff_ms: int | None = None


@dataclass(frozen=True, slots=True)
class FaultInjection:
    """faultInjection (percentages 0-100)."""

    delay_ms: int | None = None
    delay_percent: float = 100.0
    abort_status: int | None = None
    abort_grpc_status: int | None = None
    abort_percent: float = 100.0


@dataclass(frozen=True, slots=True)
class HeaderSelector:
    """A rate limit rule's clientSelectors headers entry."""

    name: str
    kind: str
    value: str = ""
    invert: bool = False


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    """A rate limit rule: its limit in seconds, its selectors (all of them ANDed)."""

    requests: int
    unit_s: int
    headers: tuple[HeaderSelector, ...] = ()
    source_cidr: str | None = None
    source_distinct: bool = False


@dataclass(frozen=True, slots=True)
class RateLimit:
    """rateLimit: Local or Global, and its rules."""

    scope: str
    rules: tuple[RateLimitRule, ...]


@dataclass(frozen=True, slots=True)
class Compression:
    """compressor[] (or the deprecated compression[]): the algorithm, its library's settings as
    Envoy's field names and values (enums by their Envoy names), minContentLength in bytes, and
    whether it is preferred when the client's q-values tie (the first of `compressor`)."""

    algorithm: str
    settings: tuple[tuple[str, int | bool | str], ...] = ()
    min_content_length: int | None = None
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class _Setting:
    """One field of a compression library: Envoy's name, and its bounds (an integer), or its
    names (an enum: Envoy Gateway's → Envoy's), or neither (a boolean). `level`: Envoy's gzip
    level enum from an integer."""

    envoy: str
    bounds: tuple[int, int] | None = None
    names: dict[str, str] | None = None
    level: bool = False


_COMPRESSION_FIELDS: dict[str, dict[str, _Setting]] = {
    "Gzip": {
        "compressionLevel": _Setting("compression_level", (1, 9), level=True),
        "compressionStrategy": _Setting("compression_strategy", names={
            "Default": "DEFAULT_STRATEGY", "Filtered": "FILTERED", "HuffmanOnly": "HUFFMAN_ONLY", "RLE": "RLE",
            "Fixed": "FIXED"}),
        "memoryLevel": _Setting("memory_level", (1, 9)),
        "windowBits": _Setting("window_bits", (9, 15)),
        "chunkSize": _Setting("chunk_size", (4096, 65536)),
    },
    "Brotli": {
        "quality": _Setting("quality", (0, 11)),
        "encoderMode": _Setting("encoder_mode", names={"Default": "DEFAULT", "Generic": "GENERIC", "Text": "TEXT",
                                                       "Font": "FONT"}),
        "windowBits": _Setting("window_bits", (10, 24)),
        "inputBlockBits": _Setting("input_block_bits", (16, 24)),
        "chunkSize": _Setting("chunk_size", (4096, 65536)),
        "disableLiteralContextModeling": _Setting("disable_literal_context_modeling"),
    },
    "Zstd": {
        "compressionLevel": _Setting("compression_level", (1, 22)),
        "enableChecksum": _Setting("enable_checksum"),
        "strategy": _Setting("strategy", names={n: n.upper() for n in (
            "Default", "Fast", "DFast", "Greedy", "Lazy", "Lazy2", "BTLazy2", "BTOpt", "BTUltra", "BTUltra2")}),
        "chunkSize": _Setting("chunk_size", (4096, 65536)),
    },
}


@dataclass(frozen=True, slots=True)
class OverrideResponse:
    """responseOverride[].response: the status (None: the original's), Content-Type, body and
    headers added ((name, value, overwrite))."""

    status: int | None = None
    content_type: str | None = None
    body: str | None = None
    headers: tuple[tuple[str, str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class OverrideRedirect:
    """responseOverride[].redirect (None: the request's own)."""

    status: int = 302
    scheme: str | None = None
    hostname: str | None = None
    port: int | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseOverride:
    """One responseOverride rule: the status code ranges it matches (a value is a range of one),
    and the response or redirect that replaces the matched response."""

    codes: tuple[tuple[int, int], ...]
    response: OverrideResponse | None = None
    redirect: OverrideRedirect | None = None


@dataclass(frozen=True, slots=True)
class RouteTracing:
    """telemetry.tracing: the route's sampling (percentages; None: the Gateway's) and span tags."""

    random_percent: float | None = None
    client_percent: float | None = None
    overall_percent: float | None = None
    tags: tuple[CustomTag, ...] = ()


@dataclass(frozen=True, slots=True)
class Dns:
    """dns: how DNS-resolved backends are resolved (Envoy's lookup family names)."""

    refresh_ms: int | None = None
    respect_ttl: bool | None = None
    lookup_family: str | None = None


_LOOKUP_FAMILIES = {"IPv4": "V4_ONLY", "IPv6": "V6_ONLY", "IPv4Preferred": "V4_PREFERRED",
                    "IPv6Preferred": "AUTO", "IPv4AndIPv6": "ALL"}


@dataclass(frozen=True, slots=True)
class Http2:
    """http2: settings of the HTTP/2 connections to the backends (windows in bytes)."""

    stream_window: int | None = None
    connection_window: int | None = None
    max_streams: int | None = None
    terminate_stream: bool = False  # onInvalidMessage TerminateStream (default TerminateConnection)


@dataclass(frozen=True, slots=True)
class BackendTrafficPolicy:
    """One BackendTrafficPolicy, read (None: the policy does not say)."""

    meta: Meta
    source: Source
    targets: PolicyTargets
    health_check: ActiveHealthCheck | None = None
    passive: PassiveHealthCheck | None = None
    panic_threshold: int | None = None
    load_balancer: LoadBalancer | None = None
    hash_on: HashOn | None = None
    connection: Connection | None = None
    retry: Retry | None = None
    request_timeout_ms: int | None = None
    stream_idle_timeout_ms: int | None = None  # timeout.http.streamIdleTimeout
    fault: FaultInjection | None = None
    rate_limit: RateLimit | None = None
    route_stat_name: str | None = None  # the template, operators unrendered (None: no route statistics)
    use_client_protocol: bool = False  # useClientProtocol: the backend gets the client's HTTP version
    http2: Http2 | None = None
    compression: tuple[Compression, ...] = ()
    dns: Dns | None = None
    proxy_protocol: str | None = None  # proxyProtocol.version: V1 or V2
    request_buffer_bytes: int | None = None  # requestBuffer.limit
    response_overrides: tuple[ResponseOverride, ...] = ()
    tracing: RouteTracing | None = None  # telemetry.tracing
    kind = KIND


def _payload(f: Fields, key: str) -> bytes | None:
    pf = f.map(key)
    if pf is None:
        return None
    kind = pf.str("type", required=True, enum=("Text", "Binary"))
    if kind == "Text":
        text = pf.str("text")
        if text is None:
            pf.error("text", "required for type Text")
            return None
        return text.encode()
    if kind == "Binary":
        raw = pf.str("binary")
        if raw is None:
            pf.error("binary", "required for type Binary")
            return None
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            pf.error("binary", "must be base64")
    return None


def _active(af: Fields) -> ActiveHealthCheck | None:
    check_fields(af, ("timeout", "interval", "unhealthyThreshold", "healthyThreshold", "type", "http", "tcp", "grpc"),
                 ("overrides", "initialJitter"))
    kind = af.str("type", required=True, enum=("HTTP", "TCP", "GRPC"))
    timeout = duration_ms(af, "timeout", minimum_ms=1)
    interval = duration_ms(af, "interval", minimum_ms=1)
    unhealthy = af.int("unhealthyThreshold", min=1)
    healthy = af.int("healthyThreshold", min=1)
    if kind is None:
        return None
    for other in ("http", "tcp", "grpc"):
        if af.has(other) and other != kind.lower():
            af.error(other, f"can only be set if the health checker type is {other.upper()}")
    check = ActiveHealthCheck(kind, timeout if timeout is not None else 1000,
                                  interval if interval is not None else 3000,
                                  unhealthy if unhealthy is not None else 3, healthy if healthy is not None else 1)
    if kind == "HTTP":
        hf = af.map("http")
        if hf is None:
            af.error("http", "required for type HTTP")
            return None
        check_fields(hf, ("path", "method", "expectedStatuses", "expectedResponse", "hostname"))
        path = hf.str("path", required=True, min_len=1, max_len=1024)
        method = (hf.str("method") or "GET").upper()
        statuses: list[int] = []
        raw = hf.data.get("expectedStatuses") or []
        if not isinstance(raw, list):
            hf.error("expectedStatuses", "must be a list of HTTP statuses")
        else:
            for s in raw:
                if not isinstance(s, int) or isinstance(s, bool) or not 100 <= s < 600:
                    hf.error("expectedStatuses", f"invalid status {s!r}: must be an integer from 100 to 599")
                else:
                    statuses.append(s)
        if method == "CONNECT":
            hf.error("method", "CONNECT cannot be used for health checks")
        return ActiveHealthCheck(kind, check.timeout_ms, check.interval_ms, check.unhealthy_threshold,
                                     check.healthy_threshold, path=path or "/", method=method,
                                     host=hf.str("hostname", check=formats.hostname) or "",
                                     expected_statuses=tuple(statuses) or (200,),
                                     expected_response=_payload(hf, "expectedResponse"))
    if kind == "TCP":
        tf = af.map("tcp")
        if tf is None:
            af.error("tcp", "required for type TCP")
            return None
        check_fields(tf, ("send", "receive"))
        return ActiveHealthCheck(kind, check.timeout_ms, check.interval_ms, check.unhealthy_threshold,
                                     check.healthy_threshold, send=_payload(tf, "send"),
                                     expected_response=_payload(tf, "receive"))
    gf = af.map("grpc")
    service = ""
    if gf is not None:
        check_fields(gf, ("service",))
        service = gf.str("service") or ""
    return ActiveHealthCheck(kind, check.timeout_ms, check.interval_ms, check.unhealthy_threshold,
                                 check.healthy_threshold, grpc_service=service)


def _passive(pf: Fields) -> PassiveHealthCheck:
    check_fields(pf, ("splitExternalLocalOriginErrors", "interval", "consecutiveLocalOriginFailures",
                      "consecutiveGatewayErrors", "consecutive5XxErrors", "baseEjectionTime", "maxEjectionPercent",
                      "failurePercentageThreshold", "alwaysEjectOneEndpoint"))
    split = bool(pf.bool("splitExternalLocalOriginErrors"))
    local = pf.int("consecutiveLocalOriginFailures", min=0)
    gateway = pf.int("consecutiveGatewayErrors", min=0)
    five = pf.int("consecutive5XxErrors", min=0)
    percent = pf.int("maxEjectionPercent", min=0, max=100)
    interval = duration_ms(pf, "interval", minimum_ms=1)
    ejection = duration_ms(pf, "baseEjectionTime", minimum_ms=1)
    # Envoy Gateway's defaults (not Envoy's): every field is written out.
    return PassiveHealthCheck(
        consecutive_5xx=five if five is not None else 5,
        consecutive_gateway_errors=gateway if gateway is not None else 0,
        split_external_local_origin_errors=split,
        consecutive_local_origin_failures=(local if local is not None else 5) if split else None,
        interval_ms=interval if interval is not None else 3000,
        base_ejection_time_ms=ejection if ejection is not None else 30_000,
        max_ejection_percent=percent if percent is not None else 10,
        failure_percentage=pf.int("failurePercentageThreshold", min=0, max=100),
        always_eject_one=bool(pf.bool("alwaysEjectOneEndpoint")),
    )


def _load_balancer(lf: Fields) -> tuple[LoadBalancer | None, HashOn | None]:
    check_fields(lf, ("type", "consistentHash", "slowStart"), ("zoneAware", "endpointOverride"))
    kind = lf.str("type", required=True, enum=("ConsistentHash", "LeastRequest", "Random", "RoundRobin",
                                               "BackendUtilization"))
    if kind == "BackendUtilization":
        lf.error("type", "not supported by meshgate: BackendUtilization", severity="warning")
        return None, None
    slow = None
    sf = lf.map("slowStart")
    if sf is not None:
        check_fields(sf, ("window",))
        if kind not in ("RoundRobin", "LeastRequest"):
            lf.error("slowStart", "can only be set for types RoundRobin and LeastRequest")
        elif "window" not in sf.data:
            sf.error("window", "required field is missing")
        else:
            slow = duration_ms(sf, "window", minimum_ms=1)
    if kind != "ConsistentHash":
        if lf.has("consistentHash"):
            lf.error("consistentHash", "can only be set for type ConsistentHash")
        names = {"LeastRequest": "LEAST_REQUEST", "Random": "RANDOM", "RoundRobin": "ROUND_ROBIN"}
        return (LoadBalancer(names[kind], slow_start_ms=slow) if kind else None), None
    cf = lf.map("consistentHash")
    if cf is None:
        lf.error("consistentHash", "required for type ConsistentHash")
        return None, None
    check_fields(cf, ("type", "header", "cookie", "tableSize", "queryParameter", "headers", "queryParams"))
    ctype = cf.str("type", required=True, enum=("SourceIP", "Header", "Cookie", "QueryParameter", "Headers",
                                                "QueryParams"))
    table = cf.int("tableSize", min=1, max=5_000_011)
    key: HashOn | None = None
    if ctype == "SourceIP":
        key = HashOn("source_ip")
    elif ctype == "Header":
        hf = cf.map("header")
        name = hf.str("name", required=True, min_len=1) if hf is not None else None
        if hf is None:
            cf.error("header", "required for type Header")
        elif name:
            key = HashOn("header", name)
    elif ctype == "Cookie":
        kf = cf.map("cookie")
        if kf is None:
            cf.error("cookie", "required for type Cookie")
        else:
            name = kf.str("name", required=True, min_len=1)
            ttl = duration_ms(kf, "ttl")
            if name:
                key = HashOn("cookie", name, "/", ttl)
    elif ctype == "QueryParameter":
        qf = cf.map("queryParameter")
        name = qf.str("name", required=True, min_len=1) if qf is not None else None
        if qf is None:
            cf.error("queryParameter", "required for type QueryParameter")
        elif name:
            key = HashOn("query_parameter", name)
    elif ctype is not None:
        cf.error("type", f"not supported by meshgate: {ctype} (one header or query parameter only)")
    return LoadBalancer("MAGLEV", maglev_table_size=table), key


def _circuit_breaker(cf: Fields) -> Connection:
    check_fields(cf, ("maxConnections", "maxPendingRequests", "maxParallelRequests", "maxParallelRetries",
                      "maxRequestsPerConnection", "perEndpoint"), ("retryBudget",))
    limit = 4_294_967_295
    per_endpoint = None
    pf = cf.map("perEndpoint")
    if pf is not None:
        check_fields(pf, ("maxConnections",))
        per_endpoint = pf.int("maxConnections", min=0, max=limit)
    return Connection(
        max_connections_per_endpoint=per_endpoint,
        max_connections=cf.int("maxConnections", min=0, max=limit),
        max_pending_requests=cf.int("maxPendingRequests", min=0, max=limit),
        max_requests=cf.int("maxParallelRequests", min=0, max=limit),
        max_retries=cf.int("maxParallelRetries", min=0, max=limit),
        max_requests_per_connection=cf.int("maxRequestsPerConnection", min=0, max=limit),
    )


def _retry(rf: Fields) -> Retry:
    check_fields(rf, ("numRetries", "retryOn", "perRetry"), ("numAttemptsPerPriority",))
    retries = rf.int("numRetries", min=0)
    triggers: list[str] = []
    codes: list[int] = []
    on = rf.map("retryOn")
    if on is not None:
        check_fields(on, ("triggers", "httpStatusCodes"))
        for t in on.strs("triggers") or []:
            if t not in RETRY_TRIGGERS:
                on.error("triggers", f"invalid trigger {t!r}: must be one of {', '.join(RETRY_TRIGGERS)}")
            else:
                triggers.append(t)
        raw = on.data.get("httpStatusCodes") or []
        for c in raw if isinstance(raw, list) else []:
            if not isinstance(c, int) or isinstance(c, bool) or not 100 <= c < 600:
                on.error("httpStatusCodes", f"invalid status {c!r}: must be an integer from 100 to 599")
            else:
                codes.append(c)
        if codes and "retriable-status-codes" not in triggers:
            triggers.append("retriable-status-codes")
    per_try = backoff = max_backoff = None
    pf = rf.map("perRetry")
    if pf is not None:
        check_fields(pf, ("timeout", "backOff"))
        per_try = duration_ms(pf, "timeout", minimum_ms=1)
        bf = pf.map("backOff")
        if bf is not None:
            check_fields(bf, ("baseInterval", "maxInterval"))
            backoff = duration_ms(bf, "baseInterval", minimum_ms=1)
            max_backoff = duration_ms(bf, "maxInterval", minimum_ms=1)
            if backoff is not None and max_backoff is not None and max_backoff < backoff:
                bf.error("maxInterval", "must be at least baseInterval")
    # Envoy Gateway's defaults: 2 retries on connect-failure, refused-stream, unavailable,
    # cancelled and retriable-status-codes 503.
    if not triggers and not codes:
        triggers = ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"]
        codes = [503]
    return Retry(retries if retries is not None else 2, tuple(codes), backoff, tuple(triggers), per_try,
                    max_backoff)


def _fraction(f: Fields, key: str) -> float:
    raw = f.data.get(key)
    if raw is None:
        return 100.0
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw <= 100:
        f.error(key, f"invalid value {raw!r}: must be a number from 0 to 100")
        return 100.0
    return float(raw)


def _fault(ff: Fields) -> FaultInjection | None:
    check_fields(ff, ("delay", "abort"))
    delay_ms = abort = grpc = None
    delay_pct = abort_pct = 100.0
    df = ff.map("delay")
    if df is not None:
        check_fields(df, ("fixedDelay", "percentage"))
        delay_ms = duration_ms(df, "fixedDelay")
        if delay_ms is None and not df.has("fixedDelay"):
            df.error("fixedDelay", "required field is missing")
        delay_pct = _fraction(df, "percentage")
    af = ff.map("abort")
    if af is not None:
        check_fields(af, ("httpStatus", "grpcStatus", "percentage"))
        abort = af.int("httpStatus", min=200, max=599)
        grpc = af.int("grpcStatus", min=0, max=16)
        if af.has("httpStatus") and af.has("grpcStatus"):
            af.error(None, "httpStatus and grpcStatus cannot be set at the same time")
        elif not af.has("httpStatus") and not af.has("grpcStatus"):
            af.error(None, "httpStatus or grpcStatus is required")
        abort_pct = _fraction(af, "percentage")
    if df is None and af is None:
        ff.error(None, "delay or abort is required")
        return None
    return FaultInjection(delay_ms, delay_pct, abort, grpc, abort_pct)


def _rule(rf: Fields) -> RateLimitRule | None:
    check_fields(rf, ("clientSelectors", "limit"), ("cost", "shared", "shadowMode"))
    headers: list[HeaderSelector] = []
    cidr: str | None = None
    distinct = False
    for sf in rf.maps("clientSelectors", max_items=8):
        check_fields(sf, ("headers", "sourceCIDR"), ("methods", "path", "queryParams"))
        for hf in sf.maps("headers", max_items=16):
            check_fields(hf, ("name", "type", "value", "invert"))
            name = hf.str("name", required=True, min_len=1, check=formats.header_name)
            kind = hf.str("type", default="Exact", enum=("Exact", "RegularExpression", "Distinct"))
            value = hf.str("value", check=formats.regex if kind == "RegularExpression" else None)
            invert = bool(hf.bool("invert"))
            if kind == "Distinct" and (value is not None or invert):
                hf.error(None, "a Distinct header takes no value and cannot be inverted")
            elif kind != "Distinct" and value is None:
                hf.error("value", f"required for type {kind}")
            elif name and kind:
                headers.append(HeaderSelector(name, kind, value or "", invert))
        cf = sf.map("sourceCIDR")
        if cf is not None:
            check_fields(cf, ("type", "value"))
            ctype = cf.str("type", default="Exact", enum=("Exact", "Distinct"))
            value = cf.str("value", required=True)
            if value is not None:
                try:
                    cidr = str(ipaddress.ip_network(value, strict=False))
                except ValueError:
                    cf.error("value", f"invalid CIDR {value!r}")
                distinct = ctype == "Distinct"
    lf = rf.map("limit", required=True)
    if lf is None:
        return None
    check_fields(lf, ("requests", "unit"))
    requests = lf.int("requests", required=True, min=0)
    unit = lf.str("unit", required=True, enum=tuple(_UNITS_S))
    if requests is None or unit is None:
        return None
    return RateLimitRule(requests, _UNITS_S[unit], tuple(headers), cidr, distinct)


def _rate_limit(rf: Fields) -> RateLimit | None:
    check_fields(rf, ("type", "local", "global"))
    scope = rf.str("type", enum=("Local", "Global"))
    if scope is None:
        scope = "Global" if rf.has("global") else "Local"
    body = rf.map(scope.lower())
    if body is None:
        rf.error(scope.lower(), f"required for type {scope}")
        return None
    check_fields(body, ("rules",))
    rules = [r for r in (_rule(f) for f in body.maps("rules", required=True, min_items=1, max_items=64))
             if r is not None]
    return RateLimit(scope, tuple(rules)) if rules else None


def route_stat_name_problem(template: str) -> str | None:
    """Why a routeStatName template is invalid (Envoy Gateway's validateStatName), None if it is not."""
    operators = _OPERATOR.findall(template)
    if not operators and "%" in template:
        return "invalid operator: a % without its closing %"
    unsupported = [op for op in operators if op not in ROUTE_STAT_OPERATORS]
    if unsupported:
        return f"unsupported operator {', '.join(unsupported)}: must be one of {', '.join(ROUTE_STAT_OPERATORS)}"
    return None


def _ratio(f: Fields, key: str) -> float | None:
    """A Gateway API Fraction (numerator, denominator 100 unless given) as a percentage."""
    ff = f.map(key)
    if ff is None:
        return None
    check_fields(ff, ("numerator", "denominator"))
    numerator = ff.int("numerator", required=True, min=0)
    denominator = ff.int("denominator", default=100, min=1) or 100
    if numerator is None:
        return None
    if numerator > denominator:
        ff.error("numerator", f"must not exceed the denominator ({denominator}), got {numerator}")
        return None
    return 100.0 * numerator / denominator


def _route_tracing(tf: Fields) -> RouteTracing:
    check_fields(tf, ("samplingFraction", "clientSamplingFraction", "overallSamplingFraction", "customTags", "tags"),
                 ("spanName",))
    literal = []
    tags = tf.map("tags")
    if tags is not None:
        for name in sorted(str(k) for k in tags.data):
            value = tags.str(name, required=True)
            if value is not None:
                literal.append(CustomTag(name, "Literal", value))
    return RouteTracing(_ratio(tf, "samplingFraction"), _ratio(tf, "clientSamplingFraction"),
                        _ratio(tf, "overallSamplingFraction"), (*custom_tags(tf), *literal))


def _telemetry(tf: Fields) -> tuple[str | None, RouteTracing | None]:
    check_fields(tf, ("metrics", "tracing"))
    trf = tf.map("tracing")
    tracing = _route_tracing(trf) if trf is not None else None
    mf = tf.map("metrics")
    if mf is None:
        return None, tracing
    check_fields(mf, ("routeStatName",))
    # Empty: disabled, as unset (Envoy Gateway's default).
    return mf.str("routeStatName", check=route_stat_name_problem) or None, tracing


def _compression(spec: Fields) -> tuple[Compression, ...]:
    """`compressor`, else the deprecated `compression` (the same items; only `compressor`'s order
    says which algorithm Envoy prefers when the client's q-values tie)."""
    listed = "compressor" if "compressor" in spec.data else "compression"
    if listed == "compressor" and "compression" in spec.data:
        spec.error("compression", "ignored: compressor is set (compression is its deprecated form)", severity="warning")
    out: list[Compression] = []
    for cf in spec.maps(listed, max_items=3):
        check_fields(cf, ("type", "gzip", "brotli", "zstd", "minContentLength"))
        algorithm = cf.str("type", required=True, enum=tuple(_COMPRESSION_FIELDS))
        for other in ("gzip", "brotli", "zstd"):
            if other in cf.data and other != (algorithm or "").lower():
                cf.error(other, f"only allowed when type is {other.capitalize()}")
        if algorithm is None:
            continue
        if any(c.algorithm == algorithm for c in out):
            cf.error("type", f"{algorithm} is listed twice")
            continue
        settings: list[tuple[str, int | bool | str]] = []
        lf = cf.map(algorithm.lower())
        if lf is not None:
            fields = _COMPRESSION_FIELDS[algorithm]
            for unknown in (k for k in lf.data if k not in fields):
                # Envoy Gateway's schema leaves these objects open: meshgate checks their keys.
                lf.error(str(unknown), f"unknown field: {algorithm} settings are {', '.join(fields)}")
            for key, setting in fields.items():
                value: int | bool | str | None
                if setting.bounds is not None:
                    value = lf.int(key, min=setting.bounds[0], max=setting.bounds[1])
                    if value is not None and setting.level:
                        value = f"COMPRESSION_LEVEL_{value}"
                elif setting.names is not None:
                    name = lf.str(key, enum=tuple(setting.names))
                    value = setting.names[name] if name is not None else None
                else:
                    value = lf.bool(key)
                if value is not None:
                    settings.append((setting.envoy, value))
        out.append(Compression(algorithm, tuple(settings),
                               quantity_bytes(cf, "minContentLength", minimum=30, maximum=2**32 - 1),
                               preferred=listed == "compressor" and not out))
    return tuple(out)


def _status_codes(mf: Fields) -> tuple[tuple[int, int], ...]:
    codes: list[tuple[int, int]] = []
    for sf in mf.maps("statusCodes", required=True, min_items=1):
        check_fields(sf, ("type", "value", "range"))
        kind = sf.str("type", required=True, enum=("Value", "Range"))
        if kind == "Value":
            value = sf.int("value", required=True, min=100, max=599)
            if value is not None:
                codes.append((value, value))
        elif kind == "Range":
            rf = sf.map("range", required=True)
            if rf is not None:
                check_fields(rf, ("start", "end"))
                start = rf.int("start", required=True, min=100, max=599)
                end = rf.int("end", required=True, min=100, max=599)
                if start is not None and end is not None:
                    if start > end:
                        rf.error("end", f"must not be less than start ({start}), got {end}")
                    else:
                        codes.append((start, end))
    return tuple(codes)


def _override_response(rf: Fields) -> OverrideResponse | None:
    check_fields(rf, ("statusCode", "contentType", "body", "header"))
    body = None
    bf = rf.map("body")
    if bf is not None:
        check_fields(bf, ("type", "inline", "valueRef"))
        kind = bf.str("type", required=True, enum=("Inline", "ValueRef"))
        if kind == "ValueRef":
            bf.error("type", "not supported by meshgate: ValueRef (a body from a ConfigMap); use Inline: "
                     "the rule is ignored", severity="warning")
            return None
        body = bf.str("inline", required=True)
    headers: list[tuple[str, str, bool]] = []
    hf = rf.map("header")
    if hf is not None:
        check_fields(hf, ("add", "set"), ("remove",))
        for key, overwrite in (("add", False), ("set", True)):
            for af in hf.maps(key):
                check_fields(af, ("name", "value"))
                name, value = af.str("name", required=True, min_len=1), af.str("value", required=True)
                if name is not None and value is not None:
                    headers.append((name, value, overwrite))
    return OverrideResponse(rf.int("statusCode", min=100, max=599), rf.str("contentType") or None, body,
                            tuple(headers))


def _override_redirect(rf: Fields) -> OverrideRedirect:
    check_fields(rf, ("statusCode", "scheme", "hostname", "port", "path"))
    path = None
    pf = rf.map("path")
    if pf is not None:
        check_fields(pf, ("type", "replaceFullPath", "replacePrefixMatch"))
        if pf.str("type", required=True, enum=("ReplaceFullPath", "ReplacePrefixMatch")) == "ReplaceFullPath":
            path = pf.str("replaceFullPath", required=True)
        else:
            pf.error("type", "not supported by meshgate: ReplacePrefixMatch (the path is kept)", severity="warning")
    status = rf.int("statusCode", min=301, max=302)
    return OverrideRedirect(status or 302, rf.str("scheme", enum=("http", "https")), rf.str("hostname", min_len=1),
                            rf.int("port", min=1, max=65535), path)


def _response_overrides(spec: Fields) -> tuple[ResponseOverride, ...]:
    out: list[ResponseOverride] = []
    for of in spec.maps("responseOverride"):
        check_fields(of, ("match", "response", "redirect"))
        mf = of.map("match", required=True)
        if mf is None:
            continue
        check_fields(mf, ("statusCodes",), ("responseHeaders",))
        codes = _status_codes(mf)
        rf, df = of.map("response"), of.map("redirect")
        if (rf is None) == (df is None):
            of.error(None, "exactly one of response and redirect is required")
            continue
        response = _override_response(rf) if rf is not None else None
        if codes and (response is not None or df is not None):
            out.append(ResponseOverride(codes, response, _override_redirect(df) if df is not None else None))
    return tuple(out)


def _dns(df: Fields) -> Dns:
    check_fields(df, ("dnsRefreshRate", "respectDnsTtl", "lookupFamily"))
    family = df.str("lookupFamily", enum=tuple(_LOOKUP_FAMILIES))
    return Dns(duration_ms(df, "dnsRefreshRate", minimum_ms=1), df.bool("respectDnsTtl"),
               _LOOKUP_FAMILIES[family] if family is not None else None)


def _http2(hf: Fields) -> Http2:
    check_fields(hf, ("initialStreamWindowSize", "initialConnectionWindowSize", "maxConcurrentStreams",
                      "onInvalidMessage"), ("connectionKeepalive",))
    # Envoy Gateway's bounds (and Envoy's): windows of 64 KiB - 1 to 2 GiB - 1.
    return Http2(quantity_bytes(hf, "initialStreamWindowSize", minimum=65535, maximum=2**31 - 1),
                 quantity_bytes(hf, "initialConnectionWindowSize", minimum=65535, maximum=2**31 - 1),
                 hf.int("maxConcurrentStreams", min=1, max=2**31 - 1),
                 hf.str("onInvalidMessage", enum=("TerminateConnection", "TerminateStream")) == "TerminateStream")


def parse_backend_traffic_policy(f: Fields, meta: Meta, source: Source) -> BackendTrafficPolicy:
    """BackendTrafficPolicy.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return BackendTrafficPolicy(meta, source, PolicyTargets())
    check_fields(spec, ("targetRef", "targetRefs", "targetSelectors", "healthCheck", "circuitBreaker",
                        "loadBalancer", "retry", "timeout", "tcpKeepalive", "faultInjection", "rateLimit", "telemetry",
                        "useClientProtocol", "http2", "compression", "compressor", "dns", "proxyProtocol",
                        "requestBuffer", "responseOverride"),
                 _UNSUPPORTED_SPEC)
    targets = parse_targets(spec)
    active = outlier = None
    panic: int | None = None
    hf = spec.map("healthCheck")
    if hf is not None:
        check_fields(hf, ("active", "passive", "panicThreshold"))
        af = hf.map("active")
        active = _active(af) if af is not None else None
        pf = hf.map("passive")
        outlier = _passive(pf) if pf is not None else None
        panic = hf.int("panicThreshold", min=0, max=100)
    lb = key = None
    lf = spec.map("loadBalancer")
    if lf is not None:
        lb, key = _load_balancer(lf)
    cf = spec.map("circuitBreaker")
    pool = _circuit_breaker(cf) if cf is not None else None
    request_ms = stream_idle_ms = None
    tf = spec.map("timeout")
    if tf is not None:
        check_fields(tf, ("tcp", "http"))
        tcp = tf.map("tcp")
        http = tf.map("http")
        connect = idle = duration = None
        if tcp is not None:
            check_fields(tcp, ("connectTimeout",))
            connect = duration_ms(tcp, "connectTimeout", minimum_ms=1)
        if http is not None:
            check_fields(http, ("requestTimeout", "connectionIdleTimeout", "maxConnectionDuration",
                                "streamIdleTimeout"), ("maxStreamDuration",))
            request_ms = duration_ms(http, "requestTimeout")
            stream_idle_ms = duration_ms(http, "streamIdleTimeout")
            idle = duration_ms(http, "connectionIdleTimeout")
            duration = duration_ms(http, "maxConnectionDuration")
        if connect is not None or idle is not None or duration is not None:
            pool = _merge_pool(pool, Connection(connect_timeout_ms=connect, idle_timeout_ms=idle,
                                                        max_connection_duration_ms=duration))
    kf = spec.map("tcpKeepalive")
    if kf is not None:
        check_fields(kf, ("probes", "idleTime", "interval"))
        keepalive = Keepalive(kf.int("probes", min=1), duration_ms(kf, "idleTime", minimum_ms=1000),
                                     duration_ms(kf, "interval", minimum_ms=1000))
        pool = _merge_pool(pool, Connection(keepalive=keepalive))
    rf = spec.map("retry")
    ff = spec.map("faultInjection")
    lim = spec.map("rateLimit")
    tel = spec.map("telemetry")
    stat_name, tracing = _telemetry(tel) if tel is not None else (None, None)
    h2 = spec.map("http2")
    dns = spec.map("dns")
    pp = spec.map("proxyProtocol")
    if pp is not None:
        check_fields(pp, ("version",))
    rb = spec.map("requestBuffer")
    if rb is not None:
        check_fields(rb, ("limit",))
        if "limit" not in rb.data:
            rb.error("limit", "required: the largest request body to buffer")
    return BackendTrafficPolicy(meta, source, targets, active, outlier, panic, lb, key, pool,
                                retry=_retry(rf) if rf is not None else None,
                                request_timeout_ms=request_ms,
                                stream_idle_timeout_ms=stream_idle_ms,
                                fault=_fault(ff) if ff is not None else None,
                                rate_limit=_rate_limit(lim) if lim is not None else None,
                                route_stat_name=stat_name,
                                tracing=tracing,
                                use_client_protocol=bool(spec.bool("useClientProtocol", default=False)),
                                http2=_http2(h2) if h2 is not None else None,
                                compression=_compression(spec),
                                dns=_dns(dns) if dns is not None else None,
                                proxy_protocol=pp.str("version", required=True, enum=("V1", "V2")) if pp is not None
                                else None,
                                request_buffer_bytes=quantity_bytes(rb, "limit", minimum=1, maximum=2**32 - 1)
                                if rb is not None else None,
                                response_overrides=_response_overrides(spec))


def _merge_pool(a: Connection | None, b: Connection) -> Connection:
    if a is None:
        return b
    return Connection(**{name: getattr(b, name) if getattr(b, name) is not None else getattr(a, name)
                         for name in Connection.__dataclass_fields__})
