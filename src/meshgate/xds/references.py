"""Which clusters a RouteConfiguration or a Listener sends traffic to (make-before-break).

A cluster may leave a proxy only once no route or listener the proxy may still be using names
it (see server.py). The names are read from the serialized resource as served: route actions
(`cluster`, `weighted_clusters`, request mirrors), TCP proxy filters (`cluster`,
`weighted_clusters`) and UDP proxy listener filters (the route of their matcher's no-match
action), inline route configurations of HTTP connection managers included. Each
resource version is read once and remembered (a bounded memo shared by every stream).
"""

from __future__ import annotations

from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2
from envoy.extensions.filters.udp.udp_proxy.v3 import route_pb2 as udp_route_pb2
from envoy.extensions.filters.udp.udp_proxy.v3 import udp_proxy_pb2
from google.protobuf import any_pb2

from .resources import LISTENER, ROUTE, Resource

MEMO_SIZE = 1024  # resource versions remembered; a version read again costs one more parse

_TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
_UDP_PROXY = "type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig"
_HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"


def route_configuration_clusters(rc: route_pb2.RouteConfiguration) -> set[str]:
    """The clusters the routes of a RouteConfiguration send to or mirror to."""
    out: set[str] = set()
    for vh in rc.virtual_hosts:
        for r in vh.routes:
            if not r.HasField("route"):
                continue  # redirects and direct responses send nowhere
            action = r.route
            which = action.WhichOneof("cluster_specifier")
            if which == "cluster":
                out.add(action.cluster)
            elif which == "weighted_clusters":
                out.update(c.name for c in action.weighted_clusters.clusters)
            out.update(m.cluster for m in action.request_mirror_policies if m.cluster)
    return out


def listener_clusters(lst: listener_pb2.Listener) -> set[str]:
    """The clusters a Listener's TCP and UDP proxies (and inline route configurations) send to."""
    out: set[str] = set()
    for lf in lst.listener_filters:
        if lf.typed_config.type_url == _UDP_PROXY:
            proxy = udp_proxy_pb2.UdpProxyConfig()
            lf.typed_config.Unpack(proxy)
            action = proxy.matcher.on_no_match.action.typed_config
            route = udp_route_pb2.Route()
            if action.Unpack(route) and route.cluster:
                out.add(route.cluster)
    chains = [*lst.filter_chains, *([lst.default_filter_chain] if lst.HasField("default_filter_chain") else [])]
    for chain in chains:
        for f in chain.filters:
            if f.typed_config.type_url == _TCP_PROXY:
                proxy = tcp_proxy_pb2.TcpProxy()
                f.typed_config.Unpack(proxy)
                if proxy.cluster:
                    out.add(proxy.cluster)
                out.update(c.name for c in proxy.weighted_clusters.clusters)
            elif f.typed_config.type_url == _HCM:
                manager = hcm.HttpConnectionManager()
                f.typed_config.Unpack(manager)
                if manager.HasField("route_config"):
                    out |= route_configuration_clusters(manager.route_config)
    return out


def cluster_refs(type_url: str, body: any_pb2.Any) -> frozenset[str]:
    """The clusters a served resource names (none for types that name no cluster)."""
    if type_url == ROUTE:
        rc = route_pb2.RouteConfiguration()
        body.Unpack(rc)
        return frozenset(route_configuration_clusters(rc))
    if type_url == LISTENER:
        lst = listener_pb2.Listener()
        body.Unpack(lst)
        return frozenset(listener_clusters(lst))
    return frozenset()


class ClusterRefs:
    """`cluster_refs` of resources, remembered per version (at most MEMO_SIZE of them)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._memo: dict[tuple[str, str], frozenset[str]] = {}

    def of(self, type_url: str, resource: Resource) -> frozenset[str]:
        key = (type_url, resource.version)
        refs = self._memo.pop(key, None)  # re-inserted below: the dict's order is recency
        if refs is None:
            refs = cluster_refs(type_url, resource.body)
            if len(self._memo) >= self._size:
                del self._memo[next(iter(self._memo))]
        self._memo[key] = refs
        return refs
