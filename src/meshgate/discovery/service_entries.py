"""Istio ServiceEntries as service models, and their endpoints.

A ServiceEntry with several hosts is one service per host (as Istio builds them). Endpoints
come from the entry's own `endpoints`, or from the Pods and WorkloadEntries of its namespace
that its `workloadSelector` selects. An endpoint's port is the WorkloadEntry's `ports[name]`,
else the service port's `targetPort`, else its number.

VIPs: the entry's IP `addresses`; without any, the addresses Istio's allocator wrote for each
host in `status.addresses` (Istio's ShouldV2AutoAllocateIP and constructServiceEntries: not for
resolution NONE, not when the label `networking.istio.io/enable-autoallocate-ip` is `false`,
not for wildcard hosts).

A WorkloadEntry with health checks on (annotation `proxy.istio.io/health-checks-enabled`, a Go
boolean) is used only while its `Healthy` condition is `True`; without the annotation the
condition is not read (Istio's isHealthy). An unhealthy one is left out, as Istio leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..resources.core import Pod
from ..resources.istio import ServiceEntry, ServiceEntryPort, WorkloadEntry
from ..resources.meta import metadata_annotations
from .model import (
    HEALTHY,
    EndpointModel,
    Locality,
    PortModel,
    ServiceModel,
    parse_go_bool,
    selector_matches,
)
from .traffic_distribution import traffic_distribution

AUTOALLOCATE_LABEL = "networking.istio.io/enable-autoallocate-ip"
HEALTH_CHECKS_ANNOTATION = "proxy.istio.io/health-checks-enabled"

_APP_PROTOCOLS = {"HTTP2": "http2", "GRPC": "grpc", "GRPC-Web": "grpc-web", "HTTPS": "https", "TLS": "tls",
                  "TCP": "tcp", "Mongo": "mongo", "Redis": "redis", "MySQL": "mysql"}


def _port(p: ServiceEntryPort) -> PortModel:
    return PortModel(p.name, p.number, p.target_port or p.number, "UDP" if p.protocol == "UDP" else "TCP",
                     _APP_PROTOCOLS.get(p.protocol or ""))


def uses_allocated_addresses(se: ServiceEntry) -> bool:
    """Whether the entry's VIPs come from status.addresses (Istio's ShouldV2AutoAllocateIP)."""
    return (not se.addresses and se.resolution != "NONE"
            and se.meta.labels.get(AUTOALLOCATE_LABEL, "").lower() != "false")


def host_vips(se: ServiceEntry, host: str) -> tuple[str, ...]:
    """The VIPs of one host of the entry: its IP `addresses`, else the allocated ones."""
    if se.addresses:
        return tuple(a for a in se.addresses if "/" not in a)
    if not uses_allocated_addresses(se) or host.startswith("*"):
        return ()  # Istio allocates for wildcard hosts only with DYNAMIC_DNS resolution
    return tuple(dict.fromkeys(ip for h, ip in se.status_addresses if h == host))


def service_entry_models(se: ServiceEntry, namespace_annotations: Mapping[str, str] | None = None) -> list[ServiceModel]:
    """One service model per host of the entry (its Namespace's annotations may set its traffic
    distribution)."""
    ports = tuple(_port(p) for p in se.ports)
    td = traffic_distribution("ServiceEntry", None, se.meta.annotations, se.meta.namespace,
                              namespace_annotations or {})
    return [
        ServiceModel(kind="ServiceEntry", namespace=se.meta.namespace, name=se.meta.name, hosts=(host,),
                     vips=host_vips(se, host), ports=ports, labels=se.meta.labels, resolution=se.resolution,
                     export_to=se.export_to or ("*",), created=se.meta.creation_timestamp,
                     traffic_distribution=td.preference, traffic_distribution_source=td.source,
                     annotations=metadata_annotations(se.meta.annotations))
        for host in se.hosts
    ]


def workload_entry_healthy(we: WorkloadEntry) -> bool:
    """Istio's isHealthy: with health checks on, only a `Healthy` condition of `True` is healthy
    (unset is not, so a new entry waits for its first probe); without them, always healthy."""
    if we.meta is None or parse_go_bool(we.meta.annotations.get(HEALTH_CHECKS_ANNOTATION, "")) is not True:
        return True
    return we.healthy_condition == "True"


def _labels(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _workload_endpoint(we: WorkloadEntry, port: PortModel, target: int,
                       owner: tuple[str, str, str] | None) -> EndpointModel | None:
    if not we.address or we.is_unix:
        return None
    region, zone, subzone = we.locality_parts
    return EndpointModel(
        address=we.address,
        port=we.ports.get(port.name) or target,
        health=HEALTHY,
        locality=Locality(region, zone, subzone),
        owner=owner,
        labels=_labels(we.labels),
        network=we.network or "",
        weight=we.weight or 0,
    )


def service_entry_endpoints(
    se: ServiceEntry,
    host: str,
    port: PortModel,
    pods: Iterable[Pod],
    workload_entries: Iterable[WorkloadEntry],
    node_locality: Callable[[str], Locality],
) -> tuple[EndpointModel, ...]:
    """Endpoints of one port of one host of a ServiceEntry."""
    out: list[EndpointModel] = []
    if se.resolution == "NONE":
        return ()  # original destination: no endpoints to list
    # _port always gives a ServiceEntry port a numeric targetPort; the check only narrows the type.
    target = port.target_port if isinstance(port.target_port, int) else port.number
    if se.workload_selector is not None:
        for pod in pods:
            if not pod.ready or not pod.pod_ips or not selector_matches(se.workload_selector, pod.meta.labels):
                continue
            loc = node_locality(pod.node_name) if pod.node_name else Locality()
            out.append(EndpointModel(pod.pod_ips[0], target, HEALTHY, loc, pod.node_name,
                                     owner=("Pod", pod.meta.namespace, pod.meta.name), labels=_labels(pod.meta.labels)))
        for we in workload_entries:
            if selector_matches(se.workload_selector, we.labels) and workload_entry_healthy(we):
                owner = ("WorkloadEntry", we.meta.namespace, we.meta.name) if we.meta else None
                ep = _workload_endpoint(we, port, target, owner)
                if ep is not None:
                    out.append(ep)
    else:
        for we in se.endpoints:
            ep = _workload_endpoint(we, port, target, None)
            if ep is not None:
                out.append(ep)
        if not out and se.resolution in ("DNS", "DNS_ROUND_ROBIN"):
            # A DNS entry without endpoints resolves its host itself.
            out.append(EndpointModel(host, target, HEALTHY))
    return tuple(sorted(out, key=lambda e: (e.locality.region, e.locality.zone, e.locality.subzone, e.address, e.port)))
