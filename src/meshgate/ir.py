"""The intermediate representation between Gateway API translation and xDS building.

Everything here is already decided (precedence sorted, hostnames intersected, backends
resolved to cluster names); the xDS stage only has to spell it as Envoy protos.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ir_clusters import BackendTraffic
    from .ir_security import Security


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The Kubernetes object (and section) a piece of config came from."""

    kind: str
    group_version: str
    namespace: str
    name: str
    section_name: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()  # metadata.meshgate.io/* annotations, prefix stripped



@dataclass(frozen=True, slots=True)
class HeaderMutation:
    """Headers to set (overwrite), add (append) and remove."""

    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """A header or query parameter match: exact value, or a regex when `regex` is true."""

    name: str
    value: str
    regex: bool = False


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """path_kind is "exact", "prefix" (path-segment aware) or "regex"; grpc: only gRPC requests
    match (a GRPCRoute's: they share virtual hosts with HTTPRoutes, never their routes)."""

    path_kind: str
    path: str
    headers: tuple[ValueMatch, ...] = ()
    query_params: tuple[ValueMatch, ...] = ()
    method: str | None = None
    grpc: bool = False


@dataclass(frozen=True, slots=True)
class WeightedBackend:
    """A backend of a forwarding route; cluster None answers 500 for its share of traffic."""

    cluster: str | None
    weight: int
    request_headers: HeaderMutation | None = None
    response_headers: HeaderMutation | None = None


@dataclass(frozen=True, slots=True)
class WeightedCluster:
    """One cluster made of several clusters' endpoints, each backend's endpoints together
    getting its weight's share of the traffic: for a proxy that can name a single cluster
    (Envoy's UDP proxy has no weighted_clusters). `backends`: the clusters, resolved, each
    once with a weight above 0, two or more; `source`: the route whose backends they are (the
    cluster's xDS metadata)."""

    name: str
    backends: tuple[tuple[ClusterRef, int], ...]
    source: SourceRef
    http2: bool = False  # it speaks HTTP/2 (a gRPC collector's)


@dataclass(frozen=True, slots=True)
class Redirect:
    """An HTTP redirect; None fields keep the request's value (`port` is Envoy's port_redirect)."""

    status_code: int
    scheme: str | None = None
    hostname: str | None = None
    port: int | None = None
    full_path: str | None = None
    prefix: tuple[str, str] | None = None  # (matched prefix, replacement)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """URL rewrite before forwarding."""

    hostname: str | None = None
    full_path: str | None = None
    prefix: tuple[str, str] | None = None  # (matched prefix, replacement)


@dataclass(frozen=True, slots=True)
class Mirror:
    """Send a copy of requests to a cluster, for numerator/denominator of them."""

    cluster: str
    numerator: int = 100
    denominator: int = 100


@dataclass(frozen=True, slots=True)
class Retry:
    """Retry a forwarded request: on connection errors (failures, resets, per-try timeouts) and on
    these response codes, up to num_retries times, waiting about backoff_ms (None: Envoy's 25 ms).

    `triggers` (Envoy's retry_on conditions) replace the connection errors when given (a
    BackendTrafficPolicy's retryOn); `per_try_timeout_ms` bounds each attempt; `max_backoff_ms`
    caps the backoff (None: 10 times the base)."""

    num_retries: int
    status_codes: tuple[int, ...] = ()
    backoff_ms: int | None = None
    triggers: tuple[str, ...] = ()
    per_try_timeout_ms: int | None = None
    max_backoff_ms: int | None = None


@dataclass(frozen=True, slots=True)
class HeaderSelector:
    """A request header a rate limit rule selects clients by: its value `Exact`ly, by
    `RegularExpression`, or each `Distinct` value its own bucket; `invert`: the header must not match."""

    name: str
    kind: str  # Exact, RegularExpression or Distinct
    value: str = ""
    invert: bool = False


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    """`requests` per `unit_s` seconds, for the requests whose headers and client address match
    (no selector: every request). `source_cidr` with `source_distinct`: each client address in
    it has its own bucket; without, the range shares one."""

    requests: int
    unit_s: int
    headers: tuple[HeaderSelector, ...] = ()
    source_cidr: str | None = None
    source_distinct: bool = False

    @property
    def distinct(self) -> bool:
        """Whether the rule counts each distinct client (header value or address) apart."""
        return self.source_distinct or any(h.kind == "Distinct" for h in self.headers)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A route's rate limit: `Local` (each proxy counts alone, Envoy's local rate limit filter)
    or `Global` (meshgate's rate limit service counts for every proxy). A request counts against
    every rule whose selectors all match it and is refused when any of them is over; a request no
    rule selects is not limited. `source`: the policy. A Global one names the Gateway's domain and
    the route's key in it (ratelimit/descriptors.py), set when the policy is applied to a gateway."""

    scope: str
    rules: tuple[RateLimitRule, ...]
    source: SourceRef
    domain: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class FaultInjection:
    """Delay `delay_percent` of requests by `delay_ms`, and abort `abort_percent` of them with
    HTTP `abort_status` (or gRPC `abort_grpc_status`)."""

    delay_ms: int | None = None
    delay_percent: float = 100.0
    abort_status: int | None = None
    abort_grpc_status: int | None = None
    abort_percent: float = 100.0


@dataclass(frozen=True, slots=True)
class StatefulSession:
    """Keep a client on the endpoint it first reached: by a cookie or by a header called `name`.

    path and ttl_s are the cookie's (its Path, and Max-Age in seconds; None: a session cookie)."""

    kind: str  # cookie | header
    name: str
    path: str = ""
    ttl_s: int | None = None


@dataclass(frozen=True, slots=True)
class Cors:
    """A route's CORS policy (Envoy's CORS filter answers preflights and adds the headers):
    allowed origins (exact or regex), methods, headers, exposed headers, preflight max age (s)."""

    origins: tuple[ValueMatch, ...]
    methods: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_s: int = 5
    credentials: bool = False


@dataclass(frozen=True, slots=True)
class Compression:
    """Compress a route's responses with `algorithm` (Gzip, Brotli or Zstd) for clients that accept
    it (Envoy's compressor filter). `settings`: the compression library's fields that differ from
    its defaults (Envoy's field names, values); `min_content_length`: the smallest response (bytes)
    compressed (None: Envoy's 30); `preferred`: chosen first when the client's q-values tie."""

    algorithm: str
    settings: tuple[tuple[str, int | bool | str], ...] = ()
    min_content_length: int | None = None
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class RouteTracing:
    """A route's own tracing: the shares of its requests sampled (percent; None: the Gateway's
    setting) and tags added to its spans."""

    random_percent: float | None = None
    client_percent: float | None = None
    overall_percent: float | None = None
    tags: tuple[TracingTag, ...] = ()


@dataclass(frozen=True, slots=True)
class Csrf:
    """Refuse (403) a state-changing request whose Origin is neither the request's own host nor
    one of `origins` (host[:port]); with `shadow_percent`, only count that share of them."""

    origins: tuple[str, ...] = ()
    shadow_percent: float | None = None


@dataclass(frozen=True, slots=True)
class OverrideRedirect:
    """A redirect that replaces a response (None fields: the request's own)."""

    status: int = 302
    scheme: str | None = None
    hostname: str | None = None
    port: int | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseOverride:
    """Responses whose status is in one of `codes` (inclusive ranges) are replaced: by a local
    response (`status`, None keeping the original's; Content-Type; body; headers added as
    (name, value, overwrite)), or by `redirect`."""

    codes: tuple[tuple[int, int], ...]
    status: int | None = None
    content_type: str | None = None
    body: str | None = None
    headers: tuple[tuple[str, str, bool], ...] = ()
    redirect: OverrideRedirect | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """One Envoy route: a match, and exactly one of backends, redirect or direct_status."""

    name: str
    match: RouteMatch
    backends: tuple[WeightedBackend, ...] = ()
    redirect: Redirect | None = None
    direct_status: int | None = None
    request_headers: HeaderMutation | None = None
    response_headers: HeaderMutation | None = None
    rewrite: Rewrite | None = None
    mirrors: tuple[Mirror, ...] = ()
    timeout_ms: int | None = None  # None: no timeout (0 in Envoy)
    backend_timeout_ms: int | None = None
    stream_idle_timeout_ms: int | None = None  # a stream with no activity this long is reset
    source: SourceRef | None = None
    retry: Retry | None = None
    session: StatefulSession | None = None
    cors: Cors | None = None
    csrf: Csrf | None = None
    rate_limit: RateLimit | None = None
    fault: FaultInjection | None = None
    security: Security | None = None  # authentication and authorization (ir_security.py)
    rule_name: str | None = None  # its route rule's `name` (None: unnamed; source.section_name is then its index)
    # Envoy's route stat_prefix: the route's statistics are vhost.<virtual host>.route.<stat_name>.*
    # (None: Envoy keeps none for it). A BackendTrafficPolicy's telemetry.metrics.routeStatName.
    stat_name: str | None = None
    compression: tuple[Compression, ...] = ()  # response compression, by the client's preference
    request_buffer_bytes: int | None = None  # buffer whole requests up to this size (413 beyond)
    response_overrides: tuple[ResponseOverride, ...] = ()  # the first whose codes match replaces a response
    tracing: RouteTracing | None = None  # a BackendTrafficPolicy's telemetry.tracing


@dataclass(frozen=True, slots=True)
class VirtualHost:
    """Routes for a set of domains (one intersected hostname of one listener)."""

    name: str
    domains: tuple[str, ...]
    routes: tuple[Route, ...]
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """An RDS route configuration."""

    name: str
    virtual_hosts: tuple[VirtualHost, ...]


@dataclass(frozen=True, slots=True)
class ClientValidation:
    """Client certificates an HTTPS chain asks for (a Gateway's spec.tls.frontend): those signed
    by a CA of `ca` (PEM bundle) are let in; with `insecure_fallback` so is every other client."""

    ca: bytes
    insecure_fallback: bool = False
    optional: bool = False  # a client without a certificate is let in; one with an invalid one is not


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How a chain treats its clients (Envoy Gateway's ClientTrafficPolicy, `source`), None and
    empty: Envoy's default. HTTP connection manager settings apply to HTTP chains, `tcp_idle_timeout_ms`
    to TCP proxy chains, the TLS ones to chains terminating TLS. `tls_*` versions are Envoy's
    names (TLSv1_2...); `headers_with_underscores` Envoy's action (ALLOW, REJECT_REQUEST, DROP_HEADER);
    `early_headers`: changed before routing; `custom_ip_header`: the client address is this
    header's (`custom_ip_reject`: 403 without it)."""

    source: SourceRef | None = None
    request_timeout_ms: int | None = None
    idle_timeout_ms: int | None = None
    tcp_idle_timeout_ms: int | None = None
    connection_limit: int | None = None
    headers_with_underscores: str | None = None
    preserve_request_id: bool | None = None
    early_headers: HeaderMutation | None = None
    forward_client_cert: str | None = None  # Envoy's forward_client_cert_details (SANITIZE...)
    client_cert_details: tuple[str, ...] = ()  # set_current_client_cert_details fields (subject, cert...)
    xff_trusted_hops: int | None = None
    custom_ip_header: str | None = None
    custom_ip_reject: bool = False
    tls_min: str | None = None
    tls_max: str | None = None
    ciphers: tuple[str, ...] = ()
    ecdh_curves: tuple[str, ...] = ()
    alpn: tuple[str, ...] | None = None
    http1_preserve_case: bool = False
    http1_trailers: bool = False
    http2_stream_window: int | None = None
    http2_max_streams: int | None = None
    escaped_slashes: str | None = None  # Envoy's path_with_escaped_slashes_action (KEEP_UNCHANGED...)
    merge_slashes: bool | None = None
    health_check_path: str | None = None  # answered 200 by the proxy itself
    grpc_web: bool = False  # gRPC-Web requests translated to gRPC (and their answers back)
    scheme_match_backend: bool = False  # :scheme set to the backend connection's (http or https)


@dataclass(frozen=True, slots=True)
class FilterChain:
    """An HTTP connection manager chain; a TCP proxy when tcp_cluster or tcp_backends is set
    (a UDP proxy on a UDP listener).

    server_names/secrets: TLS by SNI (secrets: terminated here). destination_ips/destination_port:
    matched on the original destination (a waypoint's captured service VIPs and port).
    source_ips: matched on the client's address (a waypoint's chain for the Pods of a namespace
    with consumer routes). tcp_backends: a TCPRoute's, TLSRoute's or UDPRoute's weighted backends
    (none: connections are closed). weighted: a UDPRoute's backends as one cluster, when it has
    several (tcp_backends then names that cluster alone).
    """

    name: str
    route_config: str
    server_names: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    destination_ips: tuple[str, ...] = ()
    destination_port: int | None = None
    tcp_cluster: str | None = None
    tcp_backends: tuple[WeightedBackend, ...] | None = None
    source_ips: tuple[str, ...] = ()
    client_validation: ClientValidation | None = None
    weighted: WeightedCluster | None = None
    client: ClientSettings | None = None  # a ClientTrafficPolicy's settings


@dataclass(frozen=True, slots=True)
class Listener:
    """One Envoy listener: all Gateway listeners on one port."""

    name: str
    address: str
    port: int
    protocol: str  # HTTP, HTTPS, TLS, TCP, UDP, or MESH (a waypoint's: chains matched on destination)
    filter_chains: tuple[FilterChain, ...]
    proxy_protocol: bool = False  # the original destination comes in a PROXY protocol header
    proxy_protocol_optional: bool = False  # connections without the header are let in too
    buffer_limit_bytes: int | None = None  # per connection (a ClientTrafficPolicy's bufferLimit)


@dataclass(frozen=True, slots=True)
class ClusterRef:
    """A cluster a gateway needs: the service port it load-balances over."""

    name: str
    service_kind: str  # Service or ServiceEntry
    namespace: str
    service: str
    port: int
    host: str = ""  # the service host (a ServiceEntry's host, or the Service's FQDN)
    # Without a BackendTLSPolicy's TLS, whatever the port's policy: the backend of a Passthrough
    # TLSRoute gets the client's TLS as it came (gateway/passthrough_clusters.py).
    passthrough: bool = False
    # A route policy's cluster settings (a BackendTrafficPolicy's health checks, load balancer,
    # circuit breakers): a cluster of its own for the routes the policy applies to.
    traffic: BackendTraffic | None = None


@dataclass(frozen=True, slots=True)
class TLSSecret:
    """A TLS certificate served over SDS: a listener's (a kubernetes.io/tls Secret), or a client
    certificate (a MUTUAL DestinationRule's, a Gateway's spec.tls.backend one)."""

    name: str
    certificate_chain: bytes
    private_key: bytes


@dataclass(frozen=True, slots=True)
class ProxyParameters:
    """How a gateway's provisioned proxy is shaped (GatewayParameters: the class's, overridden
    field by field by the Gateway's); None where neither says (meshgate's defaults apply)."""

    replicas: int | None = None
    image: str | None = None
    log_level: str | None = None
    requests: tuple[tuple[str, str], ...] | None = None
    limits: tuple[tuple[str, str], ...] | None = None
    service_type: str | None = None
    service_annotations: tuple[tuple[str, str], ...] | None = None
    external_traffic_policy: str | None = None
    autoscaling: tuple[int, int, int] | None = None  # (minReplicas, maxReplicas, target CPU %)
    min_available: int | str | None = None
    max_unavailable: int | str | None = None


@dataclass(frozen=True, slots=True)
class TracingTag:
    """A span tag: a literal `value`, or the request header or environment variable it names
    (`default` when absent)."""

    name: str
    type: str  # Literal, RequestHeader or Environment
    value: str
    default: str = ""


@dataclass(frozen=True, slots=True)
class Tracing:
    """Where a gateway's proxies send spans (OpenTelemetry over gRPC, or Zipkin), how many
    requests they sample, and the tags they add."""

    provider: str  # OpenTelemetry or Zipkin
    host: str
    port: int
    service_name: str
    sampling_percent: float = 100.0
    tags: tuple[TracingTag, ...] = ()
    trace_id_128bit: bool = False
    shared_span_context: bool = True
    # The collector as a Service port (provider.backendRefs): the `meshgate-tracing` cluster is
    # then made of its endpoints (a WeightedCluster of it alone, over HTTP/2 for OTLP).
    collector: WeightedCluster | None = None
    # Named as a Service (`host` is then its DNS name, the gRPC authority): no cluster to `host`,
    # even when the Service does not resolve (spans then go nowhere).
    service_backed: bool = False
    # OpenTelemetry over OTLP/HTTP (protobuf) to this path of the collector; None: OTLP over gRPC.
    http_path: str | None = None


@dataclass(frozen=True, slots=True)
class AccessLogSink:
    """A file (`path`) or an OTLP/gRPC collector (`host`:`port`, with resource attributes)."""

    type: str  # File or OpenTelemetry
    path: str = ""
    host: str = ""
    port: int = 0
    resources: tuple[tuple[str, str], ...] = ()
    # Named as a Service (backendRefs): its endpoints' cluster, when it resolves (else records go
    # nowhere: no cluster to `host`, which is then the Service's DNS name, the gRPC authority).
    collector: WeightedCluster | None = None
    service_backed: bool = False


@dataclass(frozen=True, slots=True)
class AccessLog:
    """One access log format and where it goes: Text (`text`; "" for Envoy's default) or JSON
    (`fields`; () for meshgate's)."""

    format: str
    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    sinks: tuple[AccessLogSink, ...] = ()
    matches: tuple[str, ...] = ()  # CEL expressions: only requests for which one holds are logged


@dataclass(frozen=True, slots=True)
class Infrastructure:
    """What everything created for a gateway carries (its managed Envoy's node metadata; in a
    cluster, its Deployment, Pods, Service and ServiceAccount): labels and annotations, and the
    parameters its provisioned proxy is made with."""

    labels: tuple[tuple[str, str], ...] = ()  # sorted by key
    annotations: tuple[tuple[str, str], ...] = ()  # sorted by key
    parameters: ProxyParameters = ProxyParameters()


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """All a gateway's proxy needs, before it is spelled as xDS."""

    namespace: str
    name: str
    listeners: tuple[Listener, ...]
    route_configs: tuple[RouteConfig, ...]
    clusters: tuple[ClusterRef, ...]
    secrets: tuple[TLSSecret, ...]
    waypoint: bool = False  # a waypoint proxy (its clusters reach the pods, never a VIP)
    infrastructure: Infrastructure = Infrastructure()
    tracing: Tracing | None = None  # its parameters' telemetry.tracing
    # Its parameters' telemetry.accessLog: None for meshgate's default log, () for none.
    access_logs: tuple[AccessLog, ...] | None = None
    # The SDS name (one of `secrets`) of the certificate presented on BackendTLSPolicy connections
    # (the Gateway's spec.tls.backend clientCertificateRef, when it resolves).
    backend_client_certificate: str | None = None
    # Clusters made of other clusters' endpoints (UDPRoutes with weighted backends); the
    # clusters they are made of are in `clusters` too.
    weighted_clusters: tuple[WeightedCluster, ...] = ()

    @property
    def key(self) -> str:
        """"namespace/name", the proxy identity of this gateway."""
        return f"{self.namespace}/{self.name}"
