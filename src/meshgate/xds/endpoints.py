"""Endpoints to Envoy ClusterLoadAssignment, grouped by locality."""

from __future__ import annotations

from envoy.config.core.v3 import address_pb2, base_pb2, health_check_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2 as ec
from envoy.config.endpoint.v3 import endpoint_pb2

from ..discovery.model import EndpointModel, Locality

_HEALTH = {
    "HEALTHY": health_check_pb2.HEALTHY,
    "DRAINING": health_check_pb2.DRAINING,
    "UNHEALTHY": health_check_pb2.UNHEALTHY,
}


def load_assignment(cluster: str, endpoints: tuple[EndpointModel, ...]) -> endpoint_pb2.ClusterLoadAssignment:
    """A ClusterLoadAssignment with one LocalityLbEndpoints per locality, in locality order."""
    groups: dict[Locality, list[ec.LbEndpoint]] = {}
    for ep in endpoints:
        lb = ec.LbEndpoint(
            endpoint=ec.Endpoint(address=address_pb2.Address(
                socket_address=address_pb2.SocketAddress(address=ep.address, port_value=ep.port))),
            health_status=_HEALTH[ep.health],
        )
        groups.setdefault(ep.locality, []).append(lb)
    out = endpoint_pb2.ClusterLoadAssignment(cluster_name=cluster)
    for loc in sorted(groups, key=lambda l: (l.region, l.zone, l.subzone)):
        lle = out.endpoints.add()
        if loc.region or loc.zone or loc.subzone:
            lle.locality.CopyFrom(base_pb2.Locality(region=loc.region, zone=loc.zone, sub_zone=loc.subzone))
        lle.lb_endpoints.extend(groups[loc])
    return out
