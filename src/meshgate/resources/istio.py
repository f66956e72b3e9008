"""Istio kinds (networking.istio.io v1/v1beta1/v1alpha3): model and Istio's validation.

ServiceEntry, WorkloadEntry and DestinationRule, read through `Fields` so every problem names its
field path and line. The checks are the ones Istio makes when it admits these objects: its
validation webhook (istio/istio pkg/config/validation/validation.go: ValidateServiceEntry,
ValidateWorkloadEntry, ValidateDestinationRule and the functions they call; agent/validation.go:
ValidateTLS, ValidateLocalityLbSetting, ValidateDuration, ValidateWildcardDomain) and the CEL
rules of its CRDs (pkg/config/validation/testdata/crds). What Istio refuses is an error (the
object is excluded); what Istio accepts with a warning is a warning. Reasons are worded after
Istio's messages.

Durations are read as Istio reads them (Go syntax: "10s", "1m30s", "500ms", "1.5s", "1h") and
kept in milliseconds.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

from .fields import Fields, _type_name
from .meta import Meta, Source

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
    kind = "WorkloadEntry"

    @property
    def is_unix(self) -> bool:
        """True for a unix domain socket address."""
        return bool(self.address) and self.address.startswith(UNIX_PREFIX)

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


# --------------------------------------------------------------------------------------------
# Value formats, as Istio checks them
# --------------------------------------------------------------------------------------------

# pkg/config/labels: Istio's DNS-1123 label admits upper case letters.
_LABEL_FMT = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL_FMT)
_WILDCARD_LABEL = re.compile(r"(\*|(\*|\*-)?" + _LABEL_FMT + ")")
_QUALIFIED_NAME = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_TAG_KEY = re.compile(r"(" + _LABEL_FMT + r"(?:\." + _LABEL_FMT + r")*/)?(" + _QUALIFIED_NAME + ")")
_TAG_VALUE = re.compile(r"(" + _QUALIFIED_NAME + ")?")
_GO_INT = re.compile(r"[+-]?[0-9]+")


def is_dns1123_label(value: str) -> bool:
    """labels.IsDNS1123Label."""
    return len(value) <= 63 and _DNS1123_LABEL.fullmatch(value) is not None


def _all_numeric(label: str) -> bool:
    """strconv.Atoi succeeds: a (signed) decimal integer within int64."""
    return _GO_INT.fullmatch(label) is not None and -(2**63) <= int(label) < 2**63


def _domain_preconditions(name: str) -> str | None:
    if len(name) > 255:
        return "domain name too long (max 255)"
    if not name:
        return "empty domain name not allowed"
    return None


def _dns1123_labels(domain: str) -> str | None:
    """ValidateDNS1123Labels: every label a DNS-1123 label, the top level one not all-numeric."""
    parts = domain.split(".")
    if _all_numeric(parts[-1]):
        return f"top level domain {parts[-1]!r} cannot be all-numeric"
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None  # a trailing dot: "istio.io."
        if not is_dns1123_label(label):
            return f"label {label!r} is not a valid DNS-1123 label"
    return None


def fqdn(value: str) -> str | None:
    """ValidateFQDN: a domain name (short names allowed), no wildcard."""
    return _domain_preconditions(value) or _dns1123_labels(value)


def wildcard_domain(value: str) -> str | None:
    """ValidateWildcardDomain: a domain name whose first label may be `*`, `*foo` or `*-foo`."""
    reason = _domain_preconditions(value)
    if reason:
        return reason
    first, dot, rest = value.partition(".")
    if len(first) > 63 or not _WILDCARD_LABEL.fullmatch(first):
        if "*" in first:
            return f"label {first!r} is not valid: a wildcard may only start the first label (*, *foo or *-foo)"
        return f"label {first!r} is not a valid DNS-1123 label"
    return _dns1123_labels(rest) if dot else None


def is_ip(value: str) -> bool:
    """netip.ParseAddr accepts it."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ip_subnet(value: str) -> str | None:
    """ValidateIPSubnet: an IP address, or a CIDR block when it has one '/'."""
    if value.count("/") == 1:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return "not a valid CIDR block"
        return None
    return None if is_ip(value) else "not a valid IP address or CIDR block"


def unix_path(path: str) -> str | None:
    """ValidateUnixAddress (the part after unix://) and the CRD's UDS rules."""
    if not path:
        return "unix address must not be empty"
    if path.startswith("@"):
        return None  # an abstract socket
    if not path.startswith("/"):
        return "a unix socket path must be absolute (or an abstract socket, @name)"
    if path.endswith("/"):
        return "a unix socket path may not be a directory"
    return None


def port_name(value: str) -> str | None:
    """ValidatePortName: a DNS-1123 label."""
    return None if is_dns1123_label(value) else "invalid port name: must be a DNS-1123 label"


def protocol(value: str) -> str | None:
    """ValidateProtocol: one of Istio's protocols, in any case (empty means sniffing)."""
    if value and value.lower() not in PROTOCOLS:
        return "unsupported protocol: must be one of " + ", ".join(PROTOCOLS.values()) + " (any case)"
    return None


def tag_key(key: str) -> str | None:
    """labels validateTagKey: a Kubernetes label name with an optional DNS prefix."""
    m = _TAG_KEY.fullmatch(key)
    if m is None:
        return "not a valid label key"
    if m.group(1) and len(m.group(1)) - 1 > 253:
        return "not a valid label key (DNS prefix is too long)"
    if len(m.group(2)) > 63:
        return "not a valid label key (name is too long)"
    return None


def tag_value(value: str) -> str | None:
    """labels.Instance.Validate for a value."""
    return None if _TAG_VALUE.fullmatch(value) else "not a valid label value"


def subset_name(value: str) -> str | None:
    """validateSubsetName."""
    if not value:
        return "subset name cannot be empty"
    return None if is_dns1123_label(value) else "subset name is invalid: must be a DNS-1123 label"


def visibility(value: str) -> str | None:
    """visibility.Instance.Validate: ".", "*" or a namespace name."""
    if value in (".", "*"):
        return None
    if value == "~":
        return "exportTo ~ (none) is not allowed for Istio configuration objects"
    if not is_dns1123_label(value):
        return "only ., * or a namespace name (a DNS-1123 label) is allowed as an exportTo entry"
    return None


_GO_UNITS = {
    "ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
    "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
}
_GO_COMPONENT = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def go_duration_ns(value: str) -> int | None:
    """Nanoseconds of a Go duration ("1h2m", "1.5s", "300ms", "-2s", "0"), None when invalid.

    This is time.ParseDuration, which Istio's JSON decoding uses for google.protobuf.Duration.
    """
    s = value
    negative = False
    if s[:1] in ("+", "-"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        m = _GO_COMPONENT.match(s, pos)
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            return None  # no digits before or after the dot
        if unit not in _GO_UNITS:
            return None  # missing or unknown unit
        amount = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
        total += amount * _GO_UNITS[unit]
        pos = m.end()
    if total > 2**63 - (0 if negative else 1):
        return None  # overflows a Go time.Duration
    ns = int(total)
    return -ns if negative else ns


def is_prime(x: int) -> bool:
    """Envoy's isPrime (which Istio copies): 1, 2 and 3 count as prime."""
    if 0 < x < 4:
        return True
    if x % 2 == 0:
        return False
    factor = 3
    while factor * factor <= x:
        if x % factor == 0:
            return False
        factor += 2
    return True


# --------------------------------------------------------------------------------------------
# Reading helpers
# --------------------------------------------------------------------------------------------


class _Item(NamedTuple):
    """One valid string item of a list, with where it is."""

    index: int
    value: str
    path: str
    line: int


def _str_items(f: Fields, key: str, *, check=None, max_items: int | None = None) -> list[_Item]:
    """The string items of a list field that pass `check` (the others are reported)."""
    seq = f.data.get(key)
    if seq is None:
        return []
    if not isinstance(seq, list):
        f.error(key, f"must be a list, got {_type_name(seq)}")
        return []
    if max_items is not None and len(seq) > max_items:
        f.error(key, f"must have at most {max_items} items, got {len(seq)}")
        return []
    out: list[_Item] = []
    for i, item in enumerate(seq):
        path, line = f"{f.sub(key)}[{i}]", f.item_line(seq, i)
        if not isinstance(item, str):
            f.ctx.error(line, path, f"must be a string, got {_type_name(item)}")
            continue
        reason = check(item) if check else None
        if reason:
            f.ctx.error(line, path, f"invalid value {item!r}: {reason}")
            continue
        out.append(_Item(i, item, path, line))
    return out


def _entries(f: Fields, key: str) -> Fields | None:
    """A map field, as Fields, when present and a mapping."""
    return f.map(key) if f.has(key) else None


def _string_map(f: Fields, key: str) -> tuple[Fields | None, dict[str, str]]:
    """A map of string to string; non-string keys and values are reported."""
    sub = _entries(f, key)
    out: dict[str, str] = {}
    if sub is None:
        return None, out
    for k, v in sub.data.items():
        if not isinstance(k, str):
            sub.ctx.error(sub.line_of(k), sub.sub(str(k)), "keys must be strings")
            continue
        if v is None:
            v = ""
        if isinstance(v, bool) or not isinstance(v, str):
            sub.error(k, f"must be a string, got {_type_name(v)} (quote the value)")
            continue
        out[k] = v
    return sub, out


def _labels(f: Fields, key: str) -> dict[str, str]:
    """Labels, checked as labels.Instance.Validate does."""
    sub, labels = _string_map(f, key)
    out: dict[str, str] = {}
    for k, v in labels.items():
        reason = tag_key(k)
        if reason:
            sub.error(k, f"invalid label key {k!r}: {reason}")
            continue
        reason = tag_value(v)
        if reason:
            sub.error(k, f"invalid label value {v!r}: {reason}")
            continue
        out[k] = v
    return out


def _selector_labels(f: Fields, key: str, warn_empty: str) -> dict[str, str]:
    """Workload selector labels: no empty key, no '*' (ValidateAlphaWorkloadSelector / validateWorkloadSelector)."""
    sub, labels = _string_map(f, key)
    out: dict[str, str] = {}
    for k, v in labels.items():
        if k == "":
            sub.error(k, f"empty key is not supported in selector: {k}={v!r}")
        elif "*" in k or "*" in v:
            sub.error(k, f"wildcard is not supported in selector: {k}={v}")
        else:
            out[k] = v
    if not labels and (sub is None or not sub.data):
        f.error(key if f.has(key) else None, warn_empty, severity="warning")
    return out


def _duration(f: Fields, key: str, *, validate: bool = True) -> int | None:
    """A google.protobuf.Duration in milliseconds; `validate`: Istio's ValidateDuration (≥1ms, ms precision)."""
    if not f.has(key):
        return None
    value = f.data[key]
    if not isinstance(value, str):
        f.error(key, f"must be a duration string such as 10s or 500ms, got {_type_name(value)}")
        return None
    ns = go_duration_ns(value)
    if ns is None:
        f.error(key, f"invalid value {value!r}: must be a duration such as 10s, 500ms, 1m30s or 1h")
        return None
    if validate:
        if ns < 1_000_000:
            f.error(key, f"invalid value {value!r}: duration must be at least 1ms")
            return None
        if ns % 1_000_000:
            f.error(key, f"invalid value {value!r}: only durations to ms precision are supported")
            return None
    return ns // 1_000_000 if ns >= 0 else -((-ns) // 1_000_000)


def _non_negative(f: Fields, key: str, what: str) -> int | None:
    """An int32 field Istio requires to be non-negative."""
    value = f.int(key, min=_INT32[0], max=_INT32[1])
    if value is not None and value < 0:
        f.error(key, f"{what} must be non-negative, got {value}")
        return None
    return value


def _uint32(f: Fields, key: str) -> int | None:
    return f.int(key, min=0, max=_UINT32_MAX)


# --------------------------------------------------------------------------------------------
# exportTo
# --------------------------------------------------------------------------------------------


def _export_to(f: Fields, namespace: str, *, service_entry: bool, selector: bool = False) -> tuple[str, ...]:
    """validateExportTo: no duplicates ("." is the own namespace), "*" and "~" alone."""
    raw = f.data.get("exportTo")
    items = _str_items(f, "exportTo")
    seen: list[str] = []
    values: list[str] = []
    for it in items:
        key = namespace if it.value == "." else it.value
        if key in seen:
            if key != it.value:
                reason = f"duplicate entries in exportTo: . and the current namespace {namespace}"
            else:
                reason = f"duplicate entries in exportTo for entry {it.value}"
            f.ctx.error(it.line, it.path, reason)
            continue
        if not (service_entry and it.value == "~"):
            reason = visibility(key)
            if reason:
                f.ctx.error(it.line, it.path, f"invalid value {it.value!r}: {reason}")
                continue
        seen.append(key)
        values.append(it.value)
    count = len(raw) if isinstance(raw, list) else 0
    if selector and seen:
        if namespace not in seen:
            f.error("exportTo", "destination rule with workload selector cannot have exportTo beyond current namespace")
        elif len(seen) > 1:
            f.error("exportTo", "destination rule with workload selector cannot have multiple entries in exportTo")
    if "*" in seen and count > 1:
        f.error("exportTo", "cannot have both public (*) and non-public exportTo values for a resource")
    if "~" in seen and count > 1:
        f.error("exportTo", "cannot export service entry to no one (~) and someone")
    return tuple(values)


# --------------------------------------------------------------------------------------------
# WorkloadEntry (and ServiceEntry endpoints)
# --------------------------------------------------------------------------------------------


def _parse_workload(
    f: Fields,
    meta: Meta | None,
    source: Source | None,
    *,
    address_kind: str | None,
    service_ports: list[str] | None,
) -> WorkloadEntry:
    """validateWorkloadEntry and the ServiceEntry endpoint checks.

    address_kind: "any" (a WorkloadEntry: IP, FQDN or unix://), "ip" (STATIC endpoints: IP or
    unix://), "dns" (DNS endpoints: IP or FQDN), None (not checked). service_ports: the port
    names of the ServiceEntry, which endpoint `ports` keys must come from (None: no ServiceEntry).
    """
    address = f.str("address", max_len=256)
    network = f.str("network")
    locality = f.str("locality")
    weight = _uint32(f, "weight")
    service_account = f.str("serviceAccount", max_len=253)
    labels = _labels(f, "labels")

    unix = False
    if address_kind is not None and not address and (address is not None or not f.has("address")):
        if network and address_kind != "dns":
            f.error("address", f"address is unset with network {network!r}", severity="warning")
        else:
            f.error("address", "required field is missing: address is required (unless network is set)")
    elif address_kind is not None and address is not None:
        if address.startswith(UNIX_PREFIX) and address_kind in ("any", "ip"):
            unix = True
            reason = unix_path(address[len(UNIX_PREFIX):])
            if reason:
                f.error("address", f"invalid value {address!r}: {reason}")
        elif not is_ip(address):
            if address_kind == "ip":
                f.error("address", f"invalid value {address!r}: endpoint address must be an IP address "
                        "(or unix://) when resolution is STATIC")
            elif fqdn(address):
                f.error("address", f"invalid value {address!r}: endpoint address is not a valid FQDN or an IP address")

    ports: dict[str, int] = {}
    pm = _entries(f, "ports")
    if pm is not None:
        if len(pm.data) > 128:
            f.error("ports", f"must have at most 128 ports, got {len(pm.data)}")
        else:
            for name in pm.data:
                if not isinstance(name, str):
                    pm.ctx.error(pm.line_of(name), pm.sub(str(name)), "keys must be strings")
                    continue
                number = pm.int(name, required=True, min=1, max=65535)
                reason = port_name(name)
                if reason:
                    pm.error(name, f"invalid value {name!r}: {reason}")
                    continue
                if service_ports is not None and name not in service_ports:
                    known = ", ".join(service_ports) or "none"
                    pm.error(name, f"endpoint port {name!r} is not defined by the service entry (its ports: {known})")
                    continue
                if number is not None:
                    ports[name] = number
        if unix and pm.data:
            f.error("ports", f"unix endpoint {address} must not include ports")
    if unix and service_ports is not None and len(service_ports) != 1:
        f.error("address", f"exactly 1 service port required for unix endpoints, the service entry has {len(service_ports)}")
    return WorkloadEntry(meta, source, address, ports, labels, network, locality, weight, service_account, f.line)


def parse_workload_entry(f: Fields, meta: Meta, source: Source) -> WorkloadEntry:
    """WorkloadEntry.spec (ValidateWorkloadEntry)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return WorkloadEntry(meta, source, None, {}, {}, None, None, None, None, f.line)
    return _parse_workload(spec, meta, source, address_kind="any", service_ports=None)


# --------------------------------------------------------------------------------------------
# ServiceEntry
# --------------------------------------------------------------------------------------------


def _parse_se_ports(spec: Fields) -> tuple[list[ServiceEntryPort], list[tuple[Fields, str | None]], list[str]]:
    """The ports, each (Fields, protocol) for later rules, and every port name written."""
    ports: list[ServiceEntryPort] = []
    port_fields: list[tuple[Fields, str | None]] = []
    names: list[str] = []
    numbers: set[int] = set()
    for pf in spec.maps("ports", max_items=256):
        number = pf.int("number", required=True, min=1, max=65535)
        raw_name = pf.data.get("name")
        name = pf.str("name", required=True, max_len=256, check=port_name)
        proto_raw = pf.str("protocol", max_len=256, check=protocol)
        target = pf.int("targetPort", min=1, max=65535)
        if isinstance(raw_name, str):
            if raw_name in names:
                pf.error("name", f"service entry port name {raw_name!r} already defined")
                name = None
            names.append(raw_name)
        if number is not None:
            if number in numbers:
                pf.error("number", f"service entry port {number} already defined")
                number = None
            else:
                numbers.add(number)
        canonical = PROTOCOLS[proto_raw.lower()] if proto_raw else None
        port_fields.append((pf, canonical))
        if number is None or name is None or (pf.has("protocol") and proto_raw is None) \
                or (pf.has("targetPort") and target is None):
            continue
        ports.append(ServiceEntryPort(number, name, canonical, target))
    return ports, port_fields, names


def parse_service_entry(f: Fields, meta: Meta, source: Source) -> ServiceEntry:
    """ServiceEntry.spec (ValidateServiceEntry and the CRD's rules)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return ServiceEntry(meta, source, (), (), (), "MESH_EXTERNAL", "NONE", (), None, (), ())

    # hosts: at least one; each a (wildcard) domain, never "*" alone.
    def host_check(h: str) -> str | None:
        return "hostname cannot be wildcard" if h == "*" else wildcard_domain(h)

    if not spec.has("hosts"):
        spec.error("hosts", "required field is missing: service entry must have at least one host")
    elif isinstance(spec.data["hosts"], list) and not spec.data["hosts"]:
        spec.error("hosts", "service entry must have at least one host")
    host_items = _str_items(spec, "hosts", check=host_check, max_items=256)
    for it in host_items:
        if "*" in it.value and not it.value.startswith("*."):
            spec.ctx.error(it.line, it.path, f"partial wildcard {it.value!r} not allowed", severity="warning")
    raw_hosts = spec.data.get("hosts")
    host_count = len(raw_hosts) if isinstance(raw_hosts, list) else 0

    location = spec.str("location", default="MESH_EXTERNAL", enum=LOCATIONS) or "MESH_EXTERNAL"
    resolution = spec.str("resolution", default="NONE", enum=RESOLUTIONS)

    address_items = _str_items(spec, "addresses", check=ip_subnet, max_items=256)
    cidr = next((it for it in address_items if "/" in it.value), None)
    if cidr is not None and resolution is not None and resolution not in ("NONE", "STATIC"):
        spec.ctx.error(cidr.line, cidr.path, "CIDR addresses are allowed only for NONE/STATIC resolution types")

    ports, port_fields, port_names = _parse_se_ports(spec)

    selector: dict[str, str] | None = None
    if spec.has("workloadSelector"):
        sel = spec.map("workloadSelector")
        if sel is not None:
            selector = _selector_labels(sel, "labels", "service entry: workload selector specified without labels, "
                                        "will be applied to all services in namespace")

    raw_endpoints = spec.data.get("endpoints")
    endpoint_count = len(raw_endpoints) if isinstance(raw_endpoints, list) else 0
    if spec.has("workloadSelector") and endpoint_count:
        spec.error("workloadSelector", "only one of workloadSelector or endpoints can be set")

    address_kind = {"STATIC": "ip", "DNS": "dns", "DNS_ROUND_ROBIN": "dns"}.get(resolution or "")
    check_ports = port_names if address_kind is not None else None
    endpoints = [
        _parse_workload(ef, None, None, address_kind=address_kind, service_ports=check_ports)
        for ef in spec.maps("endpoints", max_items=4096)
    ]

    if resolution == "NONE":
        if endpoint_count:
            spec.error("endpoints", "no endpoints should be provided for resolution type NONE")
        if spec.has("workloadSelector"):
            spec.error("workloadSelector", "workloadSelector should not be set when resolution mode is NONE",
                       severity="warning")
    elif resolution in ("DNS", "DNS_ROUND_ROBIN"):
        if not endpoint_count:
            for it in host_items:
                if fqdn(it.value):
                    spec.ctx.error(it.line, it.path, f"hosts must be FQDN if no endpoints are provided for "
                                   f"resolution mode {resolution}")
        if resolution == "DNS_ROUND_ROBIN" and endpoint_count > 1:
            spec.error("endpoints", f"there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN, "
                       f"got {endpoint_count}")
        if spec.has("workloadSelector"):
            spec.error("workloadSelector", f"workloadSelector should not be set when resolution mode is {resolution}",
                       severity="warning")
        if address_items and host_count > 1 and any(p in TCP_PROTOCOLS for _, p in port_fields):
            spec.error("hosts", "service entry can not have more than one host specified simultaneously with "
                       "address and tcp port", severity="warning")

    # Several hosts on one plain TCP port cannot be told apart, unless the hosts are ignored (NONE).
    if resolution is not None and resolution != "NONE" and host_count > 1:
        for pf, proto in port_fields:
            if proto not in HTTP_PROTOCOLS and proto not in TLS_PROTOCOLS:
                pf.error("protocol", "multiple hosts provided with non-HTTP, non-TLS ports")
                break

    export_to = _export_to(spec, meta.namespace, service_entry=True)
    sans = spec.strs("subjectAltNames") or []
    return ServiceEntry(
        meta, source, tuple(it.value for it in host_items), tuple(it.value for it in address_items),
        tuple(ports), location, resolution or "NONE", tuple(endpoints), selector, export_to, tuple(sans),
    )


# --------------------------------------------------------------------------------------------
# DestinationRule
# --------------------------------------------------------------------------------------------


def _overlap(localities: list[str]) -> tuple[int, str] | None:
    """validateLocalities: well-formed, non-overlapping localities; (index, reason) of the first bad one."""
    tree: dict[str, dict[str, dict[str, bool]]] = {}
    for i, loc in enumerate(localities):
        stars = loc.count("*")
        if stars and (stars > 1 or not loc.endswith("*")):
            return i, f"locality {loc!r}: wildcard '*' can appear at most once, and only at the end"
        overlap = (i, f"locality {loc!r} overlaps with one given before")
        if "*" in tree:
            return overlap
        items = loc.split("/", 2)
        if any(item == "" for item in items):
            return i, f"locality {loc!r} must not contain empty region/zone/subzone info"
        region = items[0]
        zone = items[1] if len(items) > 1 else ""
        sub = items[2] if len(items) > 2 else ""
        if len(items) == 1:
            if region in tree:
                return overlap
            tree[region] = {"*": {"*": True}}
        elif len(items) == 2:
            zones = tree.setdefault(region, {})
            if "*" in zones or zone in zones:
                return overlap
            zones[zone] = {"*": True}
        else:
            zones = tree.setdefault(region, {})
            if "*" in zones:
                return overlap
            subs = zones.setdefault(zone, {})
            if subs.get("*") or subs.get(sub):
                return overlap
            subs[sub] = True
    return None


def _parse_locality_lb(f: Fields, has_outlier: bool) -> LocalityLbSetting:
    """ValidateLocalityLbSetting."""
    enabled = f.bool("enabled")
    distribute: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    dist_fields: list[tuple[Fields, Fields | None]] = []
    for df in f.maps("distribute"):
        frm = df.str("from", default="") or ""
        to = _entries(df, "to")
        weights: list[tuple[str, int]] = []
        if to is not None:
            for loc in to.data:
                if not isinstance(loc, str):
                    to.ctx.error(to.line_of(loc), to.sub(str(loc)), "keys must be strings")
                    continue
                w = to.int(loc, required=True, min=0, max=_UINT32_MAX)
                if w is not None:
                    weights.append((loc, w))
        distribute.append((frm, tuple(weights)))
        dist_fields.append((df, to))
    failover: list[tuple[str, str]] = []
    fail_fields: list[Fields] = []
    for ff in f.maps("failover"):
        failover.append((ff.str("from", default="") or "", ff.str("to", default="") or ""))
        fail_fields.append(ff)
    priority = _str_items(f, "failoverPriority")
    setting = LocalityLbSetting(tuple(distribute), tuple(failover), tuple(it.value for it in priority), enabled)

    if distribute and failover:
        f.error("failover", "can not simultaneously specify 'distribute' and 'failover'")
        return setting
    if failover and priority:
        for it in priority:
            if it.value in TOPOLOGY_LABELS:
                f.ctx.error(it.line, it.path, f"can not simultaneously set 'failover' and topology label "
                            f"{it.value!r} in 'failoverPriority'")
                return setting
    for (frm, weights), (df, to) in zip(distribute, dist_fields):
        if to is not None and len(weights) != len(to.data):
            return setting  # a weight that could not be read was reported already
        for loc, w in weights:
            if not 1 <= w <= 100:
                to.error(loc, f"locality weight must be in range [1, 100], got {w}")
                return setting
        total = sum(w for _, w in weights)
        if total != 100:
            df.error("to", f"total locality weight {total} != 100")
            return setting
        bad = _overlap([loc for loc, _ in weights])
        if bad is not None:
            to.error(weights[bad[0]][0], bad[1])
    bad = _overlap([frm for frm, _ in distribute])
    if bad is not None:
        dist_fields[bad[0]][0].error("from", bad[1])
    if (failover or priority) and not has_outlier:
        f.error(None, "outlier detection policy must be provided for failover: without outlierDetection, "
                "failover and failoverPriority have no effect", severity="warning")
    for (frm, to_region), ff in zip(failover, fail_fields):
        if frm == to_region:
            ff.error("to", "locality lb failover settings must specify different regions")
        for key, value in (("from", frm), ("to", to_region)):
            if "/" in value:
                ff.error(key, f"invalid value {value!r}: locality lb failover only specify region (no '/')")
            elif "*" in value:
                ff.error(key, f"invalid value {value!r}: locality lb failover region should not contain '*' wildcard")
    return setting


def _parse_consistent_hash(ch: Fields) -> ConsistentHash:
    keys = [k for k in ("httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName") if ch.has(k)]
    for extra in keys[1:]:
        ch.error(extra, f"only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName "
                 f"may be set (already set: {keys[0]})")
    header = ch.str("httpHeaderName")
    query = ch.str("httpQueryParameterName")
    source_ip = ch.bool("useSourceIp", default=False) or False
    cookie = None
    if ch.has("httpCookie"):
        cf = ch.map("httpCookie")
        if cf is not None:
            name = cf.str("name")
            if not name:
                cf.error("name", "name required for HttpCookie")
            path = cf.str("path")
            ttl = _duration(cf, "ttl", validate=False)
            cookie = HTTPCookie(name or "", path, ttl)
    algorithm = None
    ring_size = None
    table_size = None
    if ch.has("ringHash") and ch.has("maglev"):
        ch.error("maglev", "only one of ringHash or maglev may be set")
    if ch.has("ringHash"):
        rf = ch.map("ringHash")
        algorithm = "RING_HASH"
        if rf is not None:
            ring_size = rf.int("minimumRingSize", min=0, max=_UINT64_MAX)
    elif ch.has("maglev"):
        mf = ch.map("maglev")
        algorithm = "MAGLEV"
        if mf is not None:
            table_size = mf.int("tableSize", min=0, max=_UINT64_MAX)
            if not mf.has("tableSize") or table_size == 0:
                mf.error("tableSize", "tableSize must be set for maglev")
            elif table_size is not None:
                if table_size >= _MAGLEV_TABLE_LIMIT:
                    mf.error("tableSize", f"tableSize must be less than {_MAGLEV_TABLE_LIMIT} for maglev, got {table_size}")
                elif not is_prime(table_size):
                    mf.error("tableSize", f"tableSize must be a prime number for maglev, got {table_size}")
    legacy = ch.int("minimumRingSize", min=0, max=_UINT64_MAX)
    if legacy:
        ch.error("minimumRingSize", "consistent hash minimumRingSize is deprecated, use ringHash.minimumRingSize "
                 "instead", severity="warning")
        if algorithm is not None:
            ch.error("minimumRingSize", "only one of minimumRingSize or maglev/ringHash can be specified")
        else:
            ring_size = legacy
    return ConsistentHash(header, cookie, source_ip, query, algorithm, ring_size, table_size)


def _parse_load_balancer(lf: Fields, has_outlier: bool) -> LoadBalancerSettings:
    """validateLoadBalancer (and the lb_policy / hash oneofs, which Istio's decoding enforces)."""
    simple = lf.str("simple", enum=SIMPLE_LB)
    if lf.has("simple") and lf.has("consistentHash"):
        lf.error("consistentHash", "only one of simple or consistentHash may be set")
    consistent = None
    if lf.has("consistentHash"):
        ch = lf.map("consistentHash")
        if ch is not None:
            consistent = _parse_consistent_hash(ch)
    locality = None
    if lf.has("localityLbSetting"):
        llf = lf.map("localityLbSetting")
        if llf is not None:
            locality = _parse_locality_lb(llf, has_outlier)
    warmup = _duration(lf, "warmupDurationSecs")
    simple = {"UNSPECIFIED": None, "LEAST_CONN": "LEAST_REQUEST"}.get(simple, simple) if simple else None
    return LoadBalancerSettings(simple, consistent, locality, warmup)


def _parse_outlier(of: Fields) -> OutlierDetection:
    """validateOutlierDetection."""
    legacy = of.int("consecutiveErrors", min=_INT32[0], max=_INT32[1])
    if legacy:
        of.error("consecutiveErrors", "outlier detection consecutive errors is deprecated, use "
                 "consecutiveGatewayErrors or consecutive5xxErrors instead", severity="warning")
    c5xx = _uint32(of, "consecutive5xxErrors")
    gateway = _uint32(of, "consecutiveGatewayErrors")
    local = _uint32(of, "consecutiveLocalOriginFailures")
    split = of.bool("splitExternalLocalOriginErrors", default=False) or False
    if not split and local:
        of.error("consecutiveLocalOriginFailures", "outlier detection consecutive local origin failures is "
                 "specified, but split external local origin errors is set to false")
    interval = _duration(of, "interval")
    base = _duration(of, "baseEjectionTime")
    max_ejection = of.int("maxEjectionPercent", min=0, max=100)
    min_health = of.int("minHealthPercent", min=0, max=100)
    return OutlierDetection(c5xx, gateway, local, split, interval, base, max_ejection, min_health, legacy)


def _parse_connection_pool(pf: Fields) -> ConnectionPool | None:
    """validateConnectionPool."""
    if not (pf.has("tcp") or pf.has("http")):
        pf.error(None, "connection pool must have at least one field (tcp or http)")
        return None
    tcp = http = None
    tf = _entries(pf, "tcp")
    if tf is not None:
        keepalive = None
        kf = _entries(tf, "tcpKeepalive")
        if kf is not None:
            keepalive = TcpKeepalive(_uint32(kf, "probes"), _duration(kf, "time"), _duration(kf, "interval"))
        tcp = TCPSettings(
            _non_negative(tf, "maxConnections", "max connections"),
            _duration(tf, "connectTimeout"),
            keepalive,
            _duration(tf, "maxConnectionDuration"),
            _duration(tf, "idleTimeout"),
        )
    hf = _entries(pf, "http")
    if hf is not None:
        policy = hf.str("h2UpgradePolicy", default="DEFAULT", enum=H2_UPGRADE_POLICIES) or "DEFAULT"
        client_protocol = hf.bool("useClientProtocol", default=False) or False
        if policy == "UPGRADE" and client_protocol:
            hf.error("useClientProtocol", "use client protocol must not be true when h2UpgradePolicy is UPGRADE")
        http = HTTPSettings(
            _non_negative(hf, "http1MaxPendingRequests", "http1 max pending requests"),
            _non_negative(hf, "http2MaxRequests", "http2 max requests"),
            _non_negative(hf, "maxRequestsPerConnection", "max requests per connection"),
            _non_negative(hf, "maxRetries", "max retries"),
            _duration(hf, "idleTimeout"),
            policy,
            client_protocol,
            _non_negative(hf, "maxConcurrentStreams", "max concurrent streams"),
        )
    return ConnectionPool(tcp, http)


def _parse_tls(tf: Fields) -> ClientTLS:
    """agent.ValidateTLS."""
    mode = tf.str("mode", default="DISABLE", enum=TLS_MODES) or "DISABLE"
    cert = tf.str("clientCertificate") or None
    key = tf.str("privateKey") or None
    ca = tf.str("caCertificates") or None
    credential = tf.str("credentialName") or None
    crl = tf.str("caCrl") or None
    sni = tf.str("sni") or None
    sans = tf.strs("subjectAltNames") or []
    insecure = tf.bool("insecureSkipVerify")
    if insecure:
        if mode == "SIMPLE" and (ca or credential or sans):
            tf.error("insecureSkipVerify", "cannot specify caCertificates or credentialName or subjectAltNames when "
                     "insecureSkipVerify is set true")
        if mode == "MUTUAL" and (ca or sans):
            tf.error("insecureSkipVerify", "cannot specify caCertificates or subjectAltNames when insecureSkipVerify "
                     "is set true")
    if mode in ("SIMPLE", "MUTUAL") and credential:
        if cert or ca or key or crl:
            tf.error("credentialName", "cannot specify client certificates or CA certificate or CA CRL if "
                     "credentialName is set")
    elif mode == "MUTUAL":
        if not cert:
            tf.error("clientCertificate", "client certificate required for mutual tls (or set credentialName)")
        if not key:
            tf.error("privateKey", "private key required for mutual tls (or set credentialName)")
    return ClientTLS(mode, cert, key, ca, credential, tuple(sans), sni, insecure, crl)


_POLICY_KEYS = ("loadBalancer", "connectionPool", "outlierDetection", "tls")


def _parse_policies(f: Fields) -> tuple[Any, Any, Any, Any]:
    """loadBalancer, connectionPool, outlierDetection, tls of a traffic policy or port policy."""
    outlier = _parse_outlier(of) if (of := _entries(f, "outlierDetection")) is not None else None
    pool = _parse_connection_pool(cf) if (cf := _entries(f, "connectionPool")) is not None else None
    lb = None
    if (lf := _entries(f, "loadBalancer")) is not None:
        lb = _parse_load_balancer(lf, has_outlier=f.has("outlierDetection"))
    tls = _parse_tls(tf) if (tf := _entries(f, "tls")) is not None else None
    return lb, pool, outlier, tls


def _parse_port_policies(f: Fields) -> tuple[PortTrafficPolicy, ...]:
    """validatePortTrafficPolicies."""
    out: list[PortTrafficPolicy] = []
    seen: dict[int, int] = {}
    for pf in f.maps("portLevelSettings", max_items=4096):
        number = None
        if not pf.has("port"):
            pf.error("port", "required field is missing: portTrafficPolicy must have valid port")
        elif (sel := pf.map("port")) is not None:
            number = sel.int("number", min=0, max=_UINT32_MAX)
            if sel.has("number") and number is not None and not 1 <= number <= 65535:
                sel.error("number", f"port {number} is not a port number: this setting never applies",
                          severity="warning")
            elif not sel.has("number"):
                sel.error("number", "no port number: this setting never applies", severity="warning")
            elif number in seen:
                sel.error("number", f"port {number} already has settings (line {seen[number]}): only the first apply",
                          severity="warning")
            if number is not None:
                seen.setdefault(number, pf.line)
        if not any(pf.has(k) for k in _POLICY_KEYS):
            pf.error(None, "port traffic policy must have at least one field")
            continue
        lb, pool, outlier, tls = _parse_policies(pf)
        if number is not None:
            out.append(PortTrafficPolicy(number, lb, pool, outlier, tls))
    return tuple(out)


def _parse_traffic_policy(f: Fields) -> TrafficPolicy | None:
    """validateTrafficPolicy."""
    if not any(f.has(k) for k in (*_POLICY_KEYS, "portLevelSettings", "tunnel", "proxyProtocol")):
        f.error(None, "traffic policy must have at least one field")
        return None
    if f.has("tunnel") and f.has("proxyProtocol"):
        f.error(None, "tunnel and proxyProtocol must not be set together")
        return None
    lb, pool, outlier, tls = _parse_policies(f)
    return TrafficPolicy(lb, pool, outlier, tls, _parse_port_policies(f))


def parse_destination_rule(f: Fields, meta: Meta, source: Source) -> DestinationRule:
    """DestinationRule.spec (ValidateDestinationRule)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return DestinationRule(meta, source, "", None, (), (), None)
    host = spec.str("host", required=True, check=wildcard_domain) or ""
    policy = _parse_traffic_policy(tp) if (tp := _entries(spec, "trafficPolicy")) is not None else None
    subsets: list[Subset] = []
    names: set[str] = set()
    for sf in spec.maps("subsets"):
        name = sf.str("name", required=True, check=subset_name)
        if name is not None:
            if name in names:
                sf.error("name", f"duplicate subset names: {name}")
                name = None
            else:
                names.add(name)
        labels = _labels(sf, "labels")
        sub_policy = _parse_traffic_policy(tp) if (tp := _entries(sf, "trafficPolicy")) is not None else None
        if name is not None:
            subsets.append(Subset(name, labels, sub_policy))
    selector = None
    if spec.has("workloadSelector"):
        sel = spec.map("workloadSelector")
        if sel is not None:
            selector = _selector_labels(sel, "matchLabels", "workload selector specified without labels")
    export_to = _export_to(spec, meta.namespace, service_entry=False, selector=spec.has("workloadSelector"))
    return DestinationRule(meta, source, host, policy, tuple(subsets), export_to, selector)
