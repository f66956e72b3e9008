"""Istio kinds' typed model: ServiceEntry, WorkloadEntry, DestinationRule and their parts."""

from __future__ import annotations

from dataclasses import dataclass

from ..meta import Meta, Source

GROUP = "networking.istio.io"

# pkg/config/protocol: Parse is case-insensitive; the canonical names are Istio's.
PROTOCOLS = {
    "tcp": "TCP", "udp": "UDP", "grpc": "GRPC", "grpc-web": "GRPC-Web", "http": "HTTP",
    "http_proxy": "HTTP_PROXY", "http2": "HTTP2", "https": "HTTPS", "tls": "TLS", "mongo": "Mongo",
    "redis": "Redis", "mysql": "MySQL",
}
HTTP_PROTOCOLS = frozenset({"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-Web"})
TLS_PROTOCOLS = frozenset({"HTTPS", "TLS"})
TCP_PROTOCOLS = frozenset({"TCP", "HTTPS", "TLS", "Mongo", "Redis", "MySQL"})

LOCATIONS = ("MESH_EXTERNAL", "MESH_INTERNAL")
RESOLUTIONS = ("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN")
SIMPLE_LB = ("UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST")
TLS_MODES = ("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")
H2_UPGRADE_POLICIES = ("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE")
# Labels that failoverPriority may not name together with failover (pilot/pkg/serviceregistry/util/label).
TOPOLOGY_LABELS = ("topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone")
UNIX_PREFIX = "unix://"

_INT32 = (-(2**31), 2**31 - 1)
_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1
_MAGLEV_TABLE_LIMIT = 5000011


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkloadEntry:
    """A WorkloadEntry, or one inline endpoint of a ServiceEntry (then meta and source are None).

    ports maps a service port name to this workload's port; weight None means unset (Istio: 1).
    """

    meta: Meta | None
    source: Source | None
    address: str | None  # IP, hostname, or unix:///path / unix://@abstract
    ports: dict[str, int]
    labels: dict[str, str]
    network: str | None
    locality: str | None  # "region/zone/subzone", as written
    weight: int | None
    service_account: str | None
    line: int
    # status.conditions[type=Healthy].status ("True", "False", ...), None when absent; written by
    # Istio's health checker (proxy.istio.io/health-checks-enabled) or whoever registers the workload.
    healthy_condition: str | None = None
    kind = "WorkloadEntry"

    @property
    def is_unix(self) -> bool:
        """True for a unix domain socket address."""
        return self.address is not None and self.address.startswith(UNIX_PREFIX)

    @property
    def locality_parts(self) -> tuple[str, str, str]:
        """(region, zone, subzone); missing parts are empty."""
        parts = (self.locality or "").split("/", 2)
        parts += [""] * (3 - len(parts))
        return parts[0], parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class ServiceEntryPort:
    """A ServiceEntry port; protocol is Istio's canonical name, None when unset (sniffed)."""

    number: int
    name: str
    protocol: str | None
    target_port: int | None


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """A ServiceEntry: hosts, VIPs and ports of a service, with inline endpoints or a selector."""

    meta: Meta
    source: Source
    hosts: tuple[str, ...]
    addresses: tuple[str, ...]  # IPs and CIDRs
    ports: tuple[ServiceEntryPort, ...]
    location: str  # MESH_EXTERNAL | MESH_INTERNAL
    resolution: str  # NONE | STATIC | DNS | DNS_ROUND_ROBIN
    endpoints: tuple[WorkloadEntry, ...]
    workload_selector: dict[str, str] | None  # None: no selector; {}: selects every workload
    export_to: tuple[str, ...]  # empty: exported everywhere
    subject_alt_names: tuple[str, ...]
    # status.addresses: (host, IP) as Istio's allocator writes them for entries without
    # spec.addresses; only values that are IP addresses are kept.
    status_addresses: tuple[tuple[str, str], ...] = ()
    kind = "ServiceEntry"


@dataclass(frozen=True, slots=True)
class HTTPCookie:
    """consistentHash.httpCookie; ttl_ms None when unset (0: a session cookie)."""

    name: str
    path: str | None
    ttl_ms: int | None


@dataclass(frozen=True, slots=True)
class ConsistentHash:
    """consistentHash: exactly one hash key is set (none when the object sets none)."""

    http_header_name: str | None = None
    http_cookie: HTTPCookie | None = None
    use_source_ip: bool = False
    http_query_parameter_name: str | None = None
    hash_algorithm: str | None = None  # "RING_HASH" | "MAGLEV" | None (Istio's default: ring hash)
    minimum_ring_size: int | None = None  # ringHash.minimumRingSize, or the deprecated top-level field
    maglev_table_size: int | None = None


@dataclass(frozen=True, slots=True)
class LocalityLbSetting:
    """localityLbSetting.

    distribute: ((from, ((to, weight), ...)), ...); failover: ((from, to), ...);
    failover_priority: label keys or key=value, in order; enabled None when unset.
    """

    distribute: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
    failover: tuple[tuple[str, str], ...] = ()
    failover_priority: tuple[str, ...] = ()
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class LoadBalancerSettings:
    """loadBalancer; simple is normalised (LEAST_CONN → LEAST_REQUEST, UNSPECIFIED → None)."""

    simple: str | None
    consistent_hash: ConsistentHash | None
    locality_lb_setting: LocalityLbSetting | None
    warmup_duration_ms: int | None


@dataclass(frozen=True, slots=True)
class OutlierDetection:
    """outlierDetection; None means unset (Envoy/Istio defaults apply)."""

    consecutive_5xx_errors: int | None
    consecutive_gateway_errors: int | None
    consecutive_local_origin_failures: int | None
    split_external_local_origin_errors: bool
    interval_ms: int | None
    base_ejection_time_ms: int | None
    max_ejection_percent: int | None
    min_health_percent: int | None
    consecutive_errors: int | None = None  # deprecated


@dataclass(frozen=True, slots=True)
class TcpKeepalive:
    probes: int | None
    time_ms: int | None
    interval_ms: int | None


@dataclass(frozen=True, slots=True)
class TCPSettings:
    max_connections: int | None
    connect_timeout_ms: int | None
    tcp_keepalive: TcpKeepalive | None
    max_connection_duration_ms: int | None
    idle_timeout_ms: int | None


@dataclass(frozen=True, slots=True)
class HTTPSettings:
    http1_max_pending_requests: int | None
    http2_max_requests: int | None
    max_requests_per_connection: int | None
    max_retries: int | None
    idle_timeout_ms: int | None
    h2_upgrade_policy: str  # DEFAULT | DO_NOT_UPGRADE | UPGRADE
    use_client_protocol: bool
    max_concurrent_streams: int | None


@dataclass(frozen=True, slots=True)
class ConnectionPool:
    """connectionPool: at least one of tcp and http is set."""

    tcp: TCPSettings | None
    http: HTTPSettings | None


@dataclass(frozen=True, slots=True)
class ClientTLS:
    """tls (ClientTLSSettings); file paths as written, credential_name a Secret name."""

    mode: str  # DISABLE | SIMPLE | MUTUAL | ISTIO_MUTUAL
    client_certificate: str | None = None
    private_key: str | None = None
    ca_certificates: str | None = None
    credential_name: str | None = None
    subject_alt_names: tuple[str, ...] = ()
    sni: str | None = None
    insecure_skip_verify: bool | None = None
    ca_crl: str | None = None


@dataclass(frozen=True, slots=True)
class PortTrafficPolicy:
    """One portLevelSettings entry: policies for one port number."""

    port: int
    load_balancer: LoadBalancerSettings | None
    connection_pool: ConnectionPool | None
    outlier_detection: OutlierDetection | None
    tls: ClientTLS | None


@dataclass(frozen=True, slots=True)
class TrafficPolicy:
    load_balancer: LoadBalancerSettings | None
    connection_pool: ConnectionPool | None
    outlier_detection: OutlierDetection | None
    tls: ClientTLS | None
    port_level_settings: tuple[PortTrafficPolicy, ...]


@dataclass(frozen=True, slots=True)
class Subset:
    name: str
    labels: dict[str, str]
    traffic_policy: TrafficPolicy | None


@dataclass(frozen=True, slots=True)
class DestinationRule:
    """A DestinationRule: traffic policy for a host, its subsets and ports."""

    meta: Meta
    source: Source
    host: str
    traffic_policy: TrafficPolicy | None
    subsets: tuple[Subset, ...]
    export_to: tuple[str, ...]
    workload_selector: dict[str, str] | None  # workloadSelector.matchLabels; None when unset
    kind = "DestinationRule"
