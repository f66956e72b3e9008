"""The service model shared by Kubernetes Services and Istio ServiceEntries (ARCHITECTURE §3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Topology labels of Nodes (and, as Istio augments them, of proxies and endpoints).
REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
SUBZONE_LABEL = "topology.istio.io/subzone"


# Go's strconv.ParseBool, which Istio uses to read boolean labels and annotations.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_go_bool(value: str) -> bool | None:
    """`value` as Go's strconv.ParseBool reads it: True, False, or None when it is not a boolean."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether `labels` contain every key/value of an equality selector (an empty one matches all)."""
    return all(labels.get(k) == v for k, v in selector.items())


def exported_to(export_to: Iterable[str], owner_namespace: str, namespace: str) -> bool:
    """Istio's exportTo rule: whether an object of `owner_namespace` exported to `export_to` is
    visible from `namespace` ("*" everywhere, "." its own namespace, else a namespace name)."""
    return any(e == "*" or e == namespace or (e == "." and namespace == owner_namespace) for e in export_to)


@dataclass(frozen=True, slots=True)
class Locality:
    """Region/zone/subzone of an endpoint or a proxy."""

    region: str = ""
    zone: str = ""
    subzone: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.region, self.zone, self.subzone)) if any(
            (self.region, self.zone, self.subzone)) else ""


@dataclass(frozen=True, slots=True)
class PortModel:
    """A service port: the port clients use, and what the endpoints listen on when not told otherwise."""

    name: str
    number: int
    target_port: int | str
    protocol: str  # TCP, UDP, SCTP
    app_protocol: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceModel:
    """A Service or a ServiceEntry: names, VIPs and ports."""

    kind: str  # "Service" or "ServiceEntry"
    namespace: str
    name: str
    hosts: tuple[str, ...]
    vips: tuple[str, ...]
    ports: tuple[PortModel, ...]
    labels: dict[str, str] = field(default_factory=dict)
    headless: bool = False
    external_name: str | None = None
    resolution: str = ""  # ServiceEntry resolution (STATIC, DNS, DNS_ROUND_ROBIN, NONE); "" for Services
    export_to: tuple[str, ...] = ("*",)
    created: str = ""  # creationTimestamp: the oldest ServiceEntry wins a contested host
    traffic_distribution: str | None = None  # PreferSameZone or PreferSameNode (traffic_distribution.py)
    traffic_distribution_source: str = ""  # where it was read, for explanations
    annotations: tuple[tuple[str, str], ...] = ()  # metadata.meshgate.io/* annotations (for xDS metadata)

    def visible_from(self, namespace: str) -> bool:
        """Whether exportTo lets a namespace see this service."""
        return exported_to(self.export_to, self.namespace, namespace)

    def port(self, number: int) -> PortModel | None:
        """The port with this number, or None."""
        for p in self.ports:
            if p.number == number:
                return p
        return None


HEALTHY = "HEALTHY"
DRAINING = "DRAINING"
UNHEALTHY = "UNHEALTHY"


@dataclass(frozen=True, slots=True)
class EndpointModel:
    """One address:port serving a service port, with what load balancing needs to know of it."""

    address: str
    port: int
    health: str  # HEALTHY, DRAINING (serving while terminating) or UNHEALTHY
    locality: Locality = Locality()
    node_name: str | None = None
    hints_zones: tuple[str, ...] | None = None
    hints_nodes: tuple[str, ...] | None = None
    owner: tuple[str, str, str] | None = None  # kind, namespace, name (the Pod or WorkloadEntry behind it)
    labels: tuple[tuple[str, str], ...] = ()  # sorted; the workload's labels (failoverPriority reads them)
    network: str = ""
    weight: int = 0  # 0: unset (Envoy's default of 1)
