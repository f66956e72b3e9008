"""Endpoints to Envoy ClusterLoadAssignment, grouped by locality."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import address_pb2, base_pb2, health_check_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2 as ec
from envoy.config.endpoint.v3 import endpoint_pb2

from ..discovery.locality import LocalityGroup
from ..discovery.model import EndpointModel, Locality
from ..ir import SourceRef
from .metadata import metadata, object_ref, set_metadata

_HEALTH = {
    "HEALTHY": health_check_pb2.HEALTHY,
    "DRAINING": health_check_pb2.DRAINING,
    "UNHEALTHY": health_check_pb2.UNHEALTHY,
}


def _lb_endpoint(ep: EndpointModel) -> ec.LbEndpoint:
    lb = ec.LbEndpoint(
        endpoint=ec.Endpoint(address=address_pb2.Address(
            socket_address=address_pb2.SocketAddress(address=ep.address, port_value=ep.port))),
        health_status=_HEALTH[ep.health],
    )
    if ep.weight:
        lb.load_balancing_weight.value = ep.weight
    if ep.owner is not None:
        set_metadata(lb, (object_ref(*ep.owner),))  # the Pod or WorkloadEntry behind it
    return lb


def _locality(loc: Locality) -> base_pb2.Locality:
    return base_pb2.Locality(region=loc.region, zone=loc.zone, sub_zone=loc.subzone)


def prioritized_assignment(cluster: str, groups: Sequence[LocalityGroup],
                           source: SourceRef | None = None) -> endpoint_pb2.ClusterLoadAssignment:
    """A ClusterLoadAssignment for one proxy's view: each locality at its priority and weight."""
    out = endpoint_pb2.ClusterLoadAssignment(cluster_name=cluster)
    md = metadata((source,))  # one per assignment, copied onto each locality
    for g in groups:
        lle = out.endpoints.add(priority=g.priority)
        if md is not None:
            lle.metadata.CopyFrom(md)
        if g.locality.region or g.locality.zone or g.locality.subzone:
            lle.locality.CopyFrom(_locality(g.locality))
        if g.load_balancing_weight:
            lle.load_balancing_weight.value = g.load_balancing_weight
        lle.lb_endpoints.extend(_lb_endpoint(ep) for ep in g.endpoints)
    return out


def load_assignment(cluster: str, endpoints: tuple[EndpointModel, ...],
                    source: SourceRef | None = None) -> endpoint_pb2.ClusterLoadAssignment:
    """A ClusterLoadAssignment with one LocalityLbEndpoints per locality, in locality order."""
    groups: dict[Locality, list[ec.LbEndpoint]] = {}
    for ep in endpoints:
        groups.setdefault(ep.locality, []).append(_lb_endpoint(ep))
    out = endpoint_pb2.ClusterLoadAssignment(cluster_name=cluster)
    md = metadata((source,))  # the Service or ServiceEntry they come from, copied onto each locality
    for loc in sorted(groups, key=lambda l: (l.region, l.zone, l.subzone)):
        lle = out.endpoints.add()
        if md is not None:
            lle.metadata.CopyFrom(md)
        if loc.region or loc.zone or loc.subzone:
            lle.locality.CopyFrom(_locality(loc))
        lle.lb_endpoints.extend(groups[loc])
    return out
