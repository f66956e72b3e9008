"""A provisioned proxy's readiness endpoint: Envoy's admin interface stays on loopback (it can
change the proxy), so the bootstrap adds a static listener on the Pod's addresses that serves
only GET /ready, proxied to the admin interface (what Envoy Gateway does). The kubelet's readiness
probe reads it: a Pod is ready once its Envoy is LIVE, and the Gateway Programmed once a replica is."""

from __future__ import annotations

from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from google.protobuf import any_pb2, duration_pb2

READINESS_PORT = 19003  # beside Envoy's usual admin port; not one a Gateway listener is likely to take
READINESS_PATH = "/ready"
ADMIN_CLUSTER = "meshgate-admin"


def _any(msg: object) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(msg)  # type: ignore[arg-type]
    return out


def add_readiness(boot: bootstrap_pb2.Bootstrap, port: int = READINESS_PORT) -> None:
    """Add the readiness listener (0.0.0.0:`port`, GET /ready only) and the admin cluster it uses."""
    admin = boot.admin.address.socket_address
    cluster = cluster_pb2.Cluster(name=ADMIN_CLUSTER, type=cluster_pb2.Cluster.STATIC,
                                  connect_timeout=duration_pb2.Duration(seconds=1))
    cluster.load_assignment.cluster_name = ADMIN_CLUSTER
    cluster.load_assignment.endpoints.append(endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[
        endpoint_components_pb2.LbEndpoint(endpoint=endpoint_components_pb2.Endpoint(
            address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
                address=admin.address, port_value=admin.port_value))))]))
    route = route_components_pb2.Route(
        match=route_components_pb2.RouteMatch(path=READINESS_PATH),
        route=route_components_pb2.RouteAction(cluster=ADMIN_CLUSTER))
    manager = hcm.HttpConnectionManager(
        stat_prefix="meshgate_readiness",
        route_config=route_pb2.RouteConfiguration(name="meshgate-readiness", virtual_hosts=[
            route_components_pb2.VirtualHost(name="readiness", domains=["*"], routes=[route])]),
        http_filters=[hcm.HttpFilter(name="envoy.filters.http.router", typed_config=_any(router_pb2.Router()))])
    listener = listener_pb2.Listener(
        name="meshgate-readiness",
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address="0.0.0.0", port_value=port)),
        filter_chains=[listener_components_pb2.FilterChain(filters=[listener_components_pb2.Filter(
            name="envoy.filters.network.http_connection_manager", typed_config=_any(manager))])])
    boot.static_resources.clusters.append(cluster)
    boot.static_resources.listeners.append(listener)
