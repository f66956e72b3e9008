"""A gateway's complete xDS configuration, built from its IR and the discovered endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

from .. import ir
from ..discovery.index import Discovery
from .clusters import cluster
from .endpoints import load_assignment
from .listeners import listener
from .routes import route_configuration
from .secrets import secret


@dataclass(slots=True)
class GatewaySnapshot:
    """What one gateway's Envoy receives, per xDS type, each list sorted by name."""

    gateway: str
    listeners: list[listener_pb2.Listener] = field(default_factory=list)
    routes: list[route_pb2.RouteConfiguration] = field(default_factory=list)
    clusters: list[cluster_pb2.Cluster] = field(default_factory=list)
    endpoints: list[endpoint_pb2.ClusterLoadAssignment] = field(default_factory=list)
    secrets: list[secret_pb2.Secret] = field(default_factory=list)


class ClusterBuilder:
    """Clusters and load assignments by name, built once and shared by every gateway using them."""

    def __init__(self, discovery: Discovery) -> None:
        self._discovery = discovery
        self._built: dict[str, tuple[cluster_pb2.Cluster, endpoint_pb2.ClusterLoadAssignment] | None] = {}

    def get(self, ref: ir.ClusterRef) -> tuple[cluster_pb2.Cluster, endpoint_pb2.ClusterLoadAssignment] | None:
        """The cluster and its endpoints, or None when its service port no longer exists."""
        if ref.name not in self._built:
            found = self._discovery.endpoints(ref.service_kind, ref.namespace, ref.service, ref.port, ref.host)
            if found is None:
                self._built[ref.name] = None
            else:
                port, eps = found
                self._built[ref.name] = (cluster(ref.name, port), load_assignment(ref.name, eps))
        return self._built[ref.name]


def build_snapshot(cfg: ir.GatewayConfig, clusters: ClusterBuilder) -> GatewaySnapshot:
    """Spell a gateway's IR as Envoy resources."""
    snap = GatewaySnapshot(cfg.key)
    snap.listeners = [listener(lst) for lst in cfg.listeners]
    snap.routes = sorted((route_configuration(rc) for rc in cfg.route_configs), key=lambda r: r.name)
    for ref in cfg.clusters:
        built = clusters.get(ref)
        if built is not None:
            snap.clusters.append(built[0])
            snap.endpoints.append(built[1])
    snap.secrets = [secret(s) for s in cfg.secrets]
    return snap
