"""EndpointSlices to endpoints: where an EndpointSlice endpoint becomes a service port's endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..resources.core import EndpointSlice
from .model import DRAINING, HEALTHY, UNHEALTHY, EndpointModel, Locality, PortModel


def health_of(ready: bool | None, serving: bool | None, terminating: bool | None) -> str:
    """Envoy health for EndpointSlice conditions, read as kube-proxy reads them
    (newEndpointSliceInfo): ready and serving unset mean true, terminating unset means false.

    A ready endpoint is HEALTHY, terminating or not (kube-proxy uses it; so does Istio). One
    that is not ready but serving and terminating is DRAINING: kube-proxy's fallback, used only
    when no endpoint is ready (topology_filter). Anything else is UNHEALTHY.
    """
    if ready is not False:
        return HEALTHY
    if serving is not False and terminating is True:
        return DRAINING
    return UNHEALTHY


def slice_port(slice_: EndpointSlice, port: PortModel) -> int | None:
    """The endpoint port of `slice_` for a service port, or None when the slice lacks it.

    Slices name their ports after the Service's ports (the EndpointSlice controller resolved
    targetPort already). A slice with no ports defines none, so it serves no port (the API's
    rule, and Istio's).
    """
    if not slice_.ports:
        return None
    for p in slice_.ports:
        if p.name == port.name and p.protocol == port.protocol:
            return p.port if p.port is not None else (port.target_port if isinstance(port.target_port, int) else None)
    return None


def slice_endpoints(
    slices: Iterable[EndpointSlice],
    port: PortModel,
    node_region: Callable[[str], str] | None = None,
) -> tuple[EndpointModel, ...]:
    """Endpoints of one service port from its EndpointSlices, deduplicated by address:port.

    `node_region` gives a node's region label (endpoints carry only their zone).
    """
    out: dict[tuple[str, int], EndpointModel] = {}
    localities: dict[tuple[str, str], Locality] = {}  # one object per locality, not per endpoint
    for sl in slices:
        if sl.address_type == "FQDN":
            continue  # FQDN slices are not routable as IPs
        number = slice_port(sl, port)
        if number is None:
            continue
        for ep in sl.endpoints:
            health = health_of(ep.ready, ep.serving, ep.terminating)
            region = node_region(ep.node_name) if node_region and ep.node_name else ""
            lkey = (region, ep.zone or "")
            locality = localities.get(lkey)
            if locality is None:
                locality = localities[lkey] = Locality(region, ep.zone or "", "")
            owner = (ep.target_ref.kind, ep.target_ref.namespace, ep.target_ref.name) if ep.target_ref else None
            # Like kube-proxy, only the first address of an endpoint is used.
            addr = ep.addresses[0]
            key = (addr, number)
            prev = out.get(key)
            if prev is not None and _rank(prev.health) <= _rank(health):
                continue
            out[key] = EndpointModel(addr, number, health, locality, ep.node_name, ep.hints_zones, ep.hints_nodes, owner)
    return tuple(out[k] for k in sorted(out))


def _rank(health: str) -> int:
    return {HEALTHY: 0, DRAINING: 1, UNHEALTHY: 2}[health]
