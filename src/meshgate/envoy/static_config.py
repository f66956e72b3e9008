"""A gateway's xDS resources as a static Envoy bootstrap: the same config, nothing dynamic.

Used to have Envoy itself check generated config (`envoy --mode validate`): RDS becomes inline
route configurations (scoped routes a static list of scopes, each with its routes inline), EDS
clusters become STATIC with their load assignment, and SDS secrets become static secrets. The
runtime is the one served Envoys get (bootstrap.runtime_layers), so Envoy checks regexes against
the same limits.
"""

from __future__ import annotations

from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import scoped_route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm,
)
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2

from ..xds.snapshot import GatewaySnapshot
from .bootstrap import runtime_layers

_HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
_UPSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"


def _inline_scopes(manager: hcm.HttpConnectionManager, routes: dict, scopes: list) -> None:
    """Scoped routes by SRDS and RDS as a static list of scopes with their routes inline (no
    scopes at all, which a static list cannot hold, as an empty inline route configuration:
    both answer 404 to everything)."""
    if not scopes:
        name = manager.scoped_routes.name
        manager.route_config.name = name  # replaces scoped_routes (a oneof)
        return
    listed = hcm.ScopedRouteConfigurationsList()
    for sc in scopes:
        inline = scoped_route_pb2.ScopedRouteConfiguration()
        inline.CopyFrom(sc)
        inline.ClearField("route_configuration_name")
        inline.route_configuration.CopyFrom(routes[sc.route_configuration_name])
        listed.scoped_route_configurations.append(inline)
    manager.scoped_routes.scoped_route_configurations_list.CopyFrom(listed)  # replaces scoped_rds


def _static_listener(src: listener_pb2.Listener, routes: dict, scopes: list | None = None) -> listener_pb2.Listener:
    out = listener_pb2.Listener()
    out.CopyFrom(src)
    for chain in out.filter_chains:
        for flt in chain.filters:
            if flt.typed_config.type_url == _HCM:
                manager = hcm.HttpConnectionManager()
                flt.typed_config.Unpack(manager)
                if manager.HasField("scoped_routes"):
                    _inline_scopes(manager, routes, scopes or [])
                else:
                    name = manager.rds.route_config_name
                    manager.ClearField("rds")
                    manager.route_config.CopyFrom(routes[name])
                flt.typed_config.Pack(manager)
        if chain.transport_socket.typed_config.type_url == _TLS:
            tls = tls_pb2.DownstreamTlsContext()
            chain.transport_socket.typed_config.Unpack(tls)
            for sds in tls.common_tls_context.tls_certificate_sds_secret_configs:
                sds.ClearField("sds_config")  # refer to the static secret of that name
            chain.transport_socket.typed_config.Pack(tls)
    return out


def _static_cluster(src: cluster_pb2.Cluster) -> cluster_pb2.Cluster:
    """A copy whose client certificates (SDS) refer to the static secrets of the same names."""
    out = cluster_pb2.Cluster()
    out.CopyFrom(src)
    if out.transport_socket.typed_config.type_url == _UPSTREAM_TLS:
        tls = tls_pb2.UpstreamTlsContext()
        out.transport_socket.typed_config.Unpack(tls)
        for sds in tls.common_tls_context.tls_certificate_sds_secret_configs:
            sds.ClearField("sds_config")
        out.transport_socket.typed_config.Pack(tls)
    return out


def static_bootstrap(snap: GatewaySnapshot, admin_port: int = 0) -> bootstrap_pb2.Bootstrap:
    """A bootstrap that holds the snapshot's resources statically."""
    routes = {r.name: r for r in snap.routes}
    assignments = {e.cluster_name: e for e in snap.endpoints}
    boot = bootstrap_pb2.Bootstrap()
    boot.node.id = f"static/{snap.gateway}"
    boot.node.cluster = snap.gateway
    boot.admin.address.socket_address.address = "127.0.0.1"
    boot.admin.address.socket_address.port_value = admin_port
    boot.layered_runtime.CopyFrom(runtime_layers())
    boot.static_resources.listeners.extend(_static_listener(l, routes, snap.scopes) for l in snap.listeners)
    for c in snap.clusters:
        sc = _static_cluster(c)
        if c.type != cluster_pb2.Cluster.EDS:
            boot.static_resources.clusters.append(sc)  # DNS and original-destination clusters as they are
            continue
        sc.ClearField("eds_cluster_config")
        sc.type = cluster_pb2.Cluster.STATIC
        if c.name in assignments:
            sc.load_assignment.CopyFrom(assignments[c.name])
        else:
            sc.load_assignment.cluster_name = c.name
        boot.static_resources.clusters.append(sc)
    boot.static_resources.secrets.extend(snap.secrets)
    return boot
