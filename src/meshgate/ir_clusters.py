"""The IR of a cluster's decisions: how Envoy balances, hashes, ejects, pools, encrypts and speaks
to one service port, and how locality shapes its endpoints' priorities.

Discovery decides these from the DestinationRule that applies (discovery/cluster_policy.py: port
settings over rule-wide ones, Istio's defaults, the locality setting in force), so the xDS stage
only spells them as Envoy protos and never reads an Istio resource. Endpoints are not here: they
change often and keep their own fast path (discovery/ → xds/endpoints.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .ir import SourceRef


@dataclass(frozen=True, slots=True)
class LocalitySetting:
    """A DestinationRule's (or the mesh's) localityLbSetting, already chosen for the cluster.

    ``distribute``: ((from pattern, ((to pattern, weight), ...)), ...), in the order written;
    ``failover``: ((from region, to region), ...); ``failover_priority``: label keys, each
    optionally ``key=value``.
    """

    enabled: bool | None = None
    distribute: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
    failover: tuple[tuple[str, str], ...] = ()
    failover_priority: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LocalityPolicy:
    """The locality load balancing in force for a cluster (Istio's GetEffectiveLbSetting).

    ``setting`` None: off. ``applies``: failover and failoverPriority apply (the rule has
    outlierDetection, or the service's trafficDistribution forces them). ``source``: where the
    setting came from, in words. ``forced``: trafficDistribution chose it. ``disabled``: the
    DestinationRule's localityLbSetting says ``enabled: false``.
    """

    setting: LocalitySetting | None = None
    applies: bool = False
    source: str = ""
    forced: bool = False
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class HashKey:
    """What consistent hashing hashes on, for the routes to the cluster.

    ``kind``: header (``name``), cookie (``name``, ``path``, ``ttl_ms``; None: a session cookie),
    source_ip, or query_parameter (``name``).
    """

    kind: str
    name: str = ""
    path: str = ""
    ttl_ms: int | None = None


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    """The cluster's load-balancing algorithm.

    ``algorithm``: ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH or MAGLEV; "" keeps the default.
    ``locality_weighted``: localities carry weights (the rule's distribute), which Envoy honours
    only with locality-weighted load balancing. ``slow_start_ms``: a new endpoint's share grows
    over this window (ROUND_ROBIN and LEAST_REQUEST).
    """

    algorithm: str = ""
    minimum_ring_size: int | None = None
    maglev_table_size: int | None = None
    locality_weighted: bool = False
    slow_start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class OutlierDetection:
    """Passive health checking; None fields keep Envoy's defaults.

    ``min_health_percent`` is the panic threshold (0 unless the rule sets it, so that ejections
    are never undone by panic mode).
    """

    consecutive_5xx: int | None = None
    consecutive_gateway_errors: int | None = None
    split_external_local_origin_errors: bool = False
    consecutive_local_origin_failures: int | None = None
    interval_ms: int | None = None
    base_ejection_time_ms: int | None = None
    max_ejection_percent: int | None = None
    min_health_percent: int = 0
    # Eject an endpoint whose share of failed requests reaches this percentage (enforced always).
    failure_percentage: int | None = None
    always_eject_one: bool = False  # eject one endpoint even past max_ejection_percent


@dataclass(frozen=True, slots=True)
class TcpKeepalive:
    """TCP keepalive on upstream connections; None fields keep the system's defaults."""

    probes: int | None = None
    time_ms: int | None = None
    interval_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ConnectionPool:
    """Circuit breakers, timeouts and connection reuse; None fields keep Envoy's defaults."""

    max_connections: int | None = None
    connect_timeout_ms: int | None = None
    keepalive: TcpKeepalive | None = None
    max_connection_duration_ms: int | None = None
    max_pending_requests: int | None = None
    max_requests: int | None = None
    max_retries: int | None = None
    max_requests_per_connection: int | None = None
    idle_timeout_ms: int | None = None
    max_connections_per_endpoint: int | None = None  # per endpoint (Envoy's per_host_thresholds)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A Kubernetes Secret, looked up when the cluster is built (its reads are recorded there)."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class CARef:
    """A BackendTLSPolicy's CA reference (key ca.crt of a ConfigMap or Secret of `namespace`),
    looked up when the cluster is built (its reads are recorded there)."""

    group: str
    kind: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class UpstreamTLS:
    """TLS to the upstream: SIMPLE (verify the server) or MUTUAL (also present a certificate).

    ``credential``: the Secret whose ca.crt verifies the server (unless ``verify`` is off) and,
    for MUTUAL, whose tls.crt and tls.key Envoy presents (fetched over SDS, never inlined).
    ``subject_alt_names`` are DNS names, ``uri_subject_alt_names`` URIs; the certificate must carry
    one of them.

    A BackendTLSPolicy's TLS (``trust_required``) trusts only ``ca`` (all of which must resolve)
    or, with ``system_ca``, the system's CA bundle; when its CAs do not resolve (or the policy asks
    for CAs meshgate does not know), the cluster trusts a CA no server can chain to, so that
    connections fail as the spec requires, never fall back to unverified TLS.
    """

    mode: str  # SIMPLE | MUTUAL
    sni: str
    subject_alt_names: tuple[str, ...] = ()
    credential: SecretRef | None = None
    verify: bool = True
    uri_subject_alt_names: tuple[str, ...] = ()
    ca: tuple[CARef, ...] = ()
    system_ca: bool = False
    trust_required: bool = False
    alpn: tuple[str, ...] = ()  # the application protocols offered in the handshake
    # The SDS name of a certificate presented besides a MUTUAL credential's: a Gateway's
    # spec.tls.backend clientCertificateRef on a BackendTLSPolicy's TLS (resolved by translation).
    presented_certificate: str = ""

    @property
    def client_certificate(self) -> SecretRef | None:
        """The Secret of the certificate presented upstream (MUTUAL only)."""
        return self.credential if self.mode == "MUTUAL" else None


@dataclass(frozen=True, slots=True)
class ActiveHealthCheck:
    """Active health checking: Envoy probes every endpoint each ``interval_ms`` and takes it out
    of load balancing after ``unhealthy_threshold`` failed probes in a row (back after
    ``healthy_threshold`` good ones).

    ``type`` HTTP: ``method`` ``path`` (with ``host`` as the authority, "" for the cluster's
    name) answered with one of ``expected_statuses`` and, when set, a body containing
    ``expected_response``. TCP: a connection, writing ``send`` and expecting ``expected_response``
    when set. GRPC: grpc.health.v1 Check of ``grpc_service`` ("" for the whole server).
    """

    type: str  # HTTP, TCP or GRPC
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
class Http2Settings:
    """Settings of HTTP/2 connections to a cluster's endpoints (windows in bytes); None keeps
    Envoy's defaults. `terminate_stream`: an invalid message resets its stream, not the connection."""

    stream_window: int | None = None
    connection_window: int | None = None
    max_streams: int | None = None
    terminate_stream: bool = False


@dataclass(frozen=True, slots=True)
class DnsSettings:
    """How a DNS-resolved cluster resolves its hosts (None: Envoy's or meshgate's default);
    `lookup_family` is Envoy's name (V4_ONLY, V6_ONLY, V4_PREFERRED, AUTO, ALL)."""

    refresh_ms: int | None = None
    respect_ttl: bool | None = None
    lookup_family: str | None = None


@dataclass(frozen=True, slots=True)
class BackendTraffic:
    """What a policy attached to routes (Envoy Gateway's BackendTrafficPolicy) decides about the
    clusters those routes send to; each field set replaces the DestinationRule's, None keeps it.

    ``source`` is the policy (the cluster's xDS metadata, and its name's subset part).
    ``panic_threshold``: the healthy percentage under which Envoy balances over every endpoint.
    """

    source: SourceRef
    health_check: ActiveHealthCheck | None = None
    outlier_detection: OutlierDetection | None = None
    load_balancer: LoadBalancer | None = None
    hash_key: HashKey | None = None
    connection_pool: ConnectionPool | None = None
    panic_threshold: int | None = None
    downstream_protocol: bool = False  # the client's HTTP version upstream (useClientProtocol)
    http2_settings: Http2Settings | None = None
    dns: DnsSettings | None = None
    proxy_protocol: str | None = None  # send the PROXY protocol header first: "V1" or "V2"

    @property
    def subset(self) -> str:
        """The subset part of the names of the clusters the policy shapes: `policy.<ns>.<name>`
        (namespaces and names have no dots, so no two policies share one)."""
        return f"policy.{self.source.namespace}.{self.source.name}"


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    """Every decision about one cluster besides its endpoints, and the rule that made them.

    ``hash_key`` goes on the routes to the cluster (consistent hashing needs them to say what to
    hash), whatever the algorithm. ``http2``: speak HTTP/2 upstream (the port's protocol, or the
    rule's h2UpgradePolicy UPGRADE). ``auto_http``: HTTP/2 or HTTP/1.1 as ALPN negotiates (a
    BackendTLSPolicy's TLS to a port that does not declare its HTTP version).
    """

    load_balancer: LoadBalancer | None = None
    hash_key: HashKey | None = None
    outlier_detection: OutlierDetection | None = None
    connection_pool: ConnectionPool | None = None
    tls: UpstreamTLS | None = None
    http2: bool = False
    auto_http: bool = False
    locality: LocalityPolicy = LocalityPolicy()
    rule: SourceRef | None = None  # the DestinationRule whose policy this is
    tls_policy: SourceRef | None = None  # the BackendTLSPolicy whose TLS this is
    health_check: ActiveHealthCheck | None = None
    panic_threshold: int | None = None  # None: panic mode off (0%), see xds/clusters.py
    traffic_policy: SourceRef | None = None  # the BackendTrafficPolicy whose settings these are
    # Speak to the endpoints in the HTTP version the client spoke (over `http2` and `auto_http`).
    downstream_protocol: bool = False
    http2_settings: Http2Settings | None = None  # wherever the connections are HTTP/2
    dns: DnsSettings | None = None  # a DNS-resolved cluster's resolution
    proxy_protocol: str | None = None  # the PROXY protocol version sent to the endpoints first

    @property
    def sources(self) -> tuple[SourceRef, ...]:
        """What made the policy (for the cluster's xDS metadata)."""
        return tuple(s for s in (self.rule, self.tls_policy, self.traffic_policy) if s is not None)

    def with_traffic(self, traffic: BackendTraffic | None) -> ClusterPolicy:
        """This policy with a route policy's settings over the DestinationRule's, field by field
        (the route's policy is the more specific: it names the routes, the rule only the host)."""
        if traffic is None:
            return self
        lb = traffic.load_balancer
        if lb is not None and self.load_balancer is not None:
            # The rule's distribute still weights localities (the policy cannot say it).
            lb = dataclasses.replace(lb, locality_weighted=self.load_balancer.locality_weighted)
        return dataclasses.replace(
            self,
            load_balancer=lb if lb is not None else self.load_balancer,
            hash_key=traffic.hash_key if traffic.load_balancer is not None else self.hash_key,
            outlier_detection=traffic.outlier_detection or self.outlier_detection,
            connection_pool=_merged_pool(self.connection_pool, traffic.connection_pool),
            health_check=traffic.health_check or self.health_check,
            panic_threshold=traffic.panic_threshold if traffic.panic_threshold is not None else self.panic_threshold,
            traffic_policy=traffic.source,
            downstream_protocol=traffic.downstream_protocol or self.downstream_protocol,
            http2_settings=traffic.http2_settings or self.http2_settings,
            dns=traffic.dns or self.dns,
            proxy_protocol=traffic.proxy_protocol or self.proxy_protocol,
        )

    def without_backend_tls(self) -> ClusterPolicy:
        """This policy without a BackendTLSPolicy's TLS (and the HTTP version its ALPN would
        negotiate): the cluster of a Passthrough TLSRoute's backend (gateway/passthrough_clusters.py)."""
        if self.tls_policy is None:
            return self
        return dataclasses.replace(self, tls=None, tls_policy=None, auto_http=False)

    def presenting(self, client_certificate: str | None) -> ClusterPolicy:
        """This policy presenting a gateway's backend client certificate (an SDS name) on a
        BackendTLSPolicy's TLS; unchanged without one, or when no policy's TLS is in force (plain,
        or a DestinationRule's, which names its own certificate)."""
        tls = self.tls
        if client_certificate is None or tls is None or self.tls_policy is None:
            return self
        return dataclasses.replace(self, tls=dataclasses.replace(tls, presented_certificate=client_certificate))


def _merged_pool(rule: ConnectionPool | None, policy: ConnectionPool | None) -> ConnectionPool | None:
    """The rule's connection pool with the policy's fields over it, field by field."""
    if policy is None or rule is None:
        return policy or rule
    return ConnectionPool(**{f.name: getattr(policy, f.name) if getattr(policy, f.name) is not None
                             else getattr(rule, f.name) for f in dataclasses.fields(ConnectionPool)})
