"""Static listeners that expose one path of Envoy's admin interface each (readiness, Prometheus
statistics) on the proxy's addresses, while the admin interface itself stays on loopback: it can
change the proxy. Each forwards its one path to the admin interface through one static cluster."""

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

ADMIN_CLUSTER = "meshgate-admin"


def _any(msg: object) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(msg)  # type: ignore[arg-type]
    return out


def _admin_cluster(boot: bootstrap_pb2.Bootstrap) -> None:
    """The static cluster of the admin interface, added once."""
    if any(c.name == ADMIN_CLUSTER for c in boot.static_resources.clusters):
        return
    admin = boot.admin.address.socket_address
    cluster = cluster_pb2.Cluster(name=ADMIN_CLUSTER, type=cluster_pb2.Cluster.STATIC,
                                  connect_timeout=duration_pb2.Duration(seconds=1))
    cluster.load_assignment.cluster_name = ADMIN_CLUSTER
    cluster.load_assignment.endpoints.append(endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[
        endpoint_components_pb2.LbEndpoint(endpoint=endpoint_components_pb2.Endpoint(
            address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
                address=admin.address, port_value=admin.port_value))))]))
    boot.static_resources.clusters.append(cluster)


def expose_admin_path(boot: bootstrap_pb2.Bootstrap, name: str, port: int, path: str) -> None:
    """Add the listener `name` on 0.0.0.0:`port` answering GET `path` (and nothing else) from
    the admin interface the bootstrap configures (which must have a fixed port)."""
    if not boot.admin.address.socket_address.port_value:
        raise ValueError("exposing an admin path needs a fixed admin port")
    _admin_cluster(boot)
    route = route_components_pb2.Route(match=route_components_pb2.RouteMatch(path=path),
                                       route=route_components_pb2.RouteAction(cluster=ADMIN_CLUSTER))
    manager = hcm.HttpConnectionManager(
        stat_prefix=name.replace("-", "_"),
        route_config=route_pb2.RouteConfiguration(name=name, virtual_hosts=[
            route_components_pb2.VirtualHost(name=name, domains=["*"], routes=[route])]),
        http_filters=[hcm.HttpFilter(name="envoy.filters.http.router", typed_config=_any(router_pb2.Router()))])
    boot.static_resources.listeners.append(listener_pb2.Listener(
        name=name,
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address="0.0.0.0", port_value=port)),
        filter_chains=[listener_components_pb2.FilterChain(filters=[listener_components_pb2.Filter(
            name="envoy.filters.network.http_connection_manager", typed_config=_any(manager))])]))
