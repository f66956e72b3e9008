"""A gateway's complete xDS configuration, built from its IR and what discovery knows.

Clusters and endpoints are planned once per (cluster, gateway namespace, and the gateway's
backend client certificate when it has one, which a BackendTLSPolicy's TLS presents): the service, its
endpoints, and the cluster's policy for that port (ir_clusters.ClusterPolicy, which discovery
decides from the DestinationRule: nothing here reads an Istio resource). A plan is built either
for no one in particular (the shared view) or for one proxy, whose locality and labels then
decide the endpoints' priorities; placements are shared between proxies of one load-balancing
context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2, scoped_route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

from .. import ir
from ..discovery.index import Discovery
from ..discovery.locality import (
    Placement,
    PlacementCache,
    ProxyView,
    group_by_priority,
    lb_context,
    place_endpoints,
)
from ..discovery.model import (
    DRAINING,
    HEALTHY,
    EndpointModel,
    Locality,
    PortModel,
    ServiceModel,
)
from ..discovery.topology_filter import categorize, serving_fallback
from ..incremental.memo import Memo
from ..ir_clusters import ClusterPolicy
from ..resources.core import ConfigMap, Secret
from .cluster_plan import AnyPlan, ClusterPlan, WeightedPart, WeightedPlan
from .clusters import CONNECT_TIMEOUT_MS, client_certificate, cluster, stat_name
from .common import duration_ms
from .endpoints import load_assignment, prioritized_assignment
from .http_filters import http_filter_entries
from .listeners import listener
from .metadata import set_metadata
from .route_builder import RouteBuilder
from .routes import HashPolicies, hash_policies
from .scopes import scope_source, split_configs
from .secrets import secret
from .security.jwt import jwks_clusters
from .serialized import CLUSTER, ENDPOINT, Resource, make_resource
from .telemetry import connection_telemetry, telemetry_clusters
from .weighted_clusters import merged_assignment, weighted_cluster

M = TypeVar("M", route_pb2.RouteConfiguration, scoped_route_pb2.ScopedRouteConfiguration, cluster_pb2.Cluster,
            endpoint_pb2.ClusterLoadAssignment)
Built = tuple[Resource, Resource | None]  # a cluster and, for EDS clusters, its load assignment

# (host, gateway namespace, proxy labels or None, port, service) → the cluster's decided policy:
# discovery's (discovery/cluster_policy.py), which records the rule lookups it makes.
PolicyLookup = Callable[[str, str, dict[str, str] | None, PortModel, ServiceModel], ClusterPolicy]

NOWHERE = ProxyView(Locality(), ())  # a proxy with no locality and no labels
NODE_LABEL = "kubernetes.io/hostname"


def proxy_node(proxy: ProxyView) -> str:
    """The Kubernetes node a proxy runs on (its identity's node name, as a label)."""
    return dict(proxy.labels).get(NODE_LABEL, "")


def usable_endpoints(endpoints: tuple[EndpointModel, ...], proxy: ProxyView) -> tuple[EndpointModel, ...]:
    """The endpoints kube-proxy would use for this proxy; fallback endpoints are sent as healthy
    (Envoy would not route to DRAINING ones, kube-proxy does when nothing else is left)."""
    chosen = categorize(endpoints, proxy.locality.zone, proxy_node(proxy)).endpoints
    return tuple(dataclasses.replace(ep, health=HEALTHY) if ep.health == DRAINING else ep for ep in chosen)


@dataclass(slots=True)
class GatewaySnapshot:
    """What one gateway's Envoy receives, per xDS type, each list sorted by name."""

    gateway: str
    listeners: list[listener_pb2.Listener] = field(default_factory=list)
    # Route configurations and SRDS scopes come serialized (xds/route_builder.py).
    route_resources: list[Resource] = field(default_factory=list)
    scope_resources: list[Resource] = field(default_factory=list)
    # Clusters and load assignments come serialized from the cluster builder.
    cluster_resources: list[Resource] = field(default_factory=list)
    endpoint_resources: list[Resource] = field(default_factory=list)
    secrets: list[secret_pb2.Secret] = field(default_factory=list)

    @property
    def clusters(self) -> list[cluster_pb2.Cluster]:
        """The clusters as messages (parsed: for reading, not for serving)."""
        return [_parsed(cluster_pb2.Cluster, r) for r in self.cluster_resources]

    @property
    def endpoints(self) -> list[endpoint_pb2.ClusterLoadAssignment]:
        """The load assignments as messages (parsed: for reading, not for serving)."""
        return [_parsed(endpoint_pb2.ClusterLoadAssignment, r) for r in self.endpoint_resources]

    @property
    def routes(self) -> list[route_pb2.RouteConfiguration]:
        """The route configurations as messages (parsed: for reading, not for serving)."""
        return [_parsed(route_pb2.RouteConfiguration, r) for r in self.route_resources]

    @property
    def scopes(self) -> list[scoped_route_pb2.ScopedRouteConfiguration]:
        """The SRDS scopes as messages (parsed: for reading, not for serving)."""
        return [_parsed(scoped_route_pb2.ScopedRouteConfiguration, r) for r in self.scope_resources]


def _parsed(kind: type[M], resource: Resource) -> M:
    out = kind()
    out.ParseFromString(resource.body.value)
    return out


@dataclass(slots=True)
class GatewayClusters:
    """One gateway's clusters for no proxy in particular: its plans, the hash policies its
    routes need, the clusters and assignments built for them, the client certificates they
    present, and the plans whose endpoints differ per proxy (not those sent to a waypoint's
    VIPs instead of endpoints; weighted clusters' among them)."""

    plans: list[ClusterPlan]
    hashing: HashPolicies
    clusters: list[Resource]
    endpoints: list[Resource]
    client_secrets: list[ir.TLSSecret]
    per_client: list[AnyPlan]


class ClusterBuilder:
    """Plans and builds clusters and endpoints; results are shared by every gateway using them.

    Plans and built clusters are memoized with what they read (incremental/), so one builder
    lives across changes: `invalidate` drops what a change touched, and `update_inputs` gives it
    the new version of the inputs that are not read through the store. Cluster policies come
    decided from discovery (`policies`), endpoints from discovery's own fast path.
    """

    def __init__(self, discovery: Discovery, policies: PolicyLookup,
                 secrets: Callable[[str, str], Secret | None],
                 via_waypoint: dict[tuple[str, str, str], tuple[str, ...]] | None = None,
                 config_maps: Callable[[str, str], ConfigMap | None] | None = None) -> None:
        self._discovery = discovery
        self._recorder = discovery.recorder
        self._policies = policies
        self._read_secret = secrets
        self._read_config_map = config_maps or (lambda ns, name: None)
        # (kind, namespace, name) → VIPs of captured services ingress gateways reach through
        # their waypoint: their clusters send to the VIPs instead of the pods.
        self.via_waypoint = via_waypoint or {}
        self._plans: Memo[tuple, ClusterPlan | None] = Memo(self._recorder)
        self._built: Memo[tuple, Built] = \
            Memo(self._recorder)
        # id(plan) → (its key, the plan, its version): pins the plan, so its id names it alone;
        # the version tells placements computed for an earlier plan of the same key apart.
        self._known: dict[int, tuple[tuple, ClusterPlan, int]] = {}
        self._ids: dict[tuple, int] = {}  # plan key → id of its plan
        # What one load-balancing context is sent, by (plan key, what the proxy's endpoints
        # depend on): rebuilt only when the plan changes, however often its gateway is translated.
        self._for_clients: Memo[tuple, Built] = \
            Memo(self._recorder)
        self._client_keys: dict[ProxyView, set[tuple]] = {}  # view → its keys in _for_clients
        self._versions = 0
        self.placements = PlacementCache()
        # A gateway's clusters for no proxy in particular, by (gateway, waypoint), with the
        # cluster references and the generation they were made for: reused while both hold.
        self._generation = 0  # moves whenever a plan or built cluster is dropped, or the VIPs change
        # (The references come with the gateway's backend client certificate, which its plans carry.)
        self._gateways: dict[tuple[str, bool], tuple[tuple, int, GatewayClusters]] = {}

    def _secrets(self, namespace: str, name: str) -> Secret | None:
        self._recorder.read(("obj", "Secret", namespace, name))
        return self._read_secret(namespace, name)

    def _config_maps(self, namespace: str, name: str) -> ConfigMap | None:
        self._recorder.read(("obj", "ConfigMap", namespace, name))
        return self._read_config_map(namespace, name)

    def update_inputs(self, policies: PolicyLookup,
                      via_waypoint: dict[tuple[str, str, str], tuple[str, ...]]) -> None:
        """The current cluster policies and waypoint VIPs (their changes invalidate by reads)."""
        self._policies = policies
        if via_waypoint != self.via_waypoint:
            self._generation += 1
        self.via_waypoint = via_waypoint

    def invalidate(self, changed: set) -> None:
        """Drop the plans and clusters that read anything in `changed` (incremental/reads.py)."""
        gone = self._plans.invalidate(changed)
        for key in gone:
            self._known.pop(self._ids.pop(key, -1), None)
        if self._built.invalidate(changed) or gone:
            self._generation += 1
        self._for_clients.invalidate(changed)

    def forget_view(self, view: ProxyView) -> None:
        """Drop what was built for one proxy view (its last proxy is gone)."""
        for key in self._client_keys.pop(view, ()):
            self._for_clients.drop(key)

    def scratch(self) -> ClusterBuilder:
        """A builder over the same inputs whose plans and clusters are cached apart (placements
        are shared): for results that must go when their user does, such as a view of one
        proxy's labels, rather than stay until the next translation."""
        other = ClusterBuilder(self._discovery, self._policies, self._read_secret, self.via_waypoint,
                               self._read_config_map)
        other.placements = self.placements
        other._versions = self._versions + (1 << 32)  # versions of its own, never equal to ours
        return other

    def plan(self, ref: ir.ClusterRef, namespace: str, labels: dict[str, str] | None = None,
             client_certificate: str | None = None) -> ClusterPlan | None:
        """The plan of a cluster seen from a gateway in `namespace` (None when its port is gone);
        `client_certificate`: the SDS name of the certificate that gateway presents on a
        BackendTLSPolicy's TLS (its spec.tls.backend), when it has one."""
        key = (ref, namespace, tuple(sorted(labels.items())) if labels else None, client_certificate)

        def compute() -> ClusterPlan | None:
            found = self._discovery.endpoints(ref.service_kind, ref.namespace, ref.service, ref.port, ref.host)
            service = (self._discovery.service(ref.namespace, ref.service) if ref.service_kind == "Service"
                       else self._discovery.host(ref.host, namespace) or next(
                           (m for m in self._discovery.service_entry(ref.namespace, ref.service)
                            if m.hosts[0] == ref.host), None))
            if found is None or service is None:
                return None
            port, endpoints = found
            policy = self._policies(ref.host, namespace, labels, port, service)
            if ref.passthrough:
                policy = policy.without_backend_tls()  # a Passthrough TLSRoute's: the client's TLS as it came
            policy = policy.presenting(client_certificate).with_traffic(ref.traffic)
            result = ClusterPlan(ref, port, service, endpoints, policy, serving_fallback(endpoints))
            self._versions += 1
            self._known[id(result)] = (key, result, self._versions)
            self._ids[key] = id(result)
            return result
        return self._plans.get(key, compute)

    def forget(self, namespace: str, service: str) -> None:
        """Drop plans and built clusters of one Service (its endpoints changed)."""
        self.invalidate({("obj", "Service", namespace, service), ("slices", namespace, service)})

    def release(self) -> None:
        """Drop every built message (plans stay): for a builder used for one pass only (`meshgate
        translate`), so that serialized config is not kept twice. A builder that lives across
        changes keeps them, to reuse what a change did not touch."""
        self._built.clear()
        self._for_clients.clear()
        self._gateways.clear()
        self._generation += 1
        self._client_keys.clear()

    def placed(self, plan: ClusterPlan, proxy: ProxyView | None
               ) -> tuple[tuple[EndpointModel, ...], Sequence[Placement] | None]:
        """The endpoints `proxy` is sent (topology hints applied) and, when locality load
        balancing shapes the cluster, their placements, in the same order."""
        proxy = proxy or NOWHERE
        endpoints = usable_endpoints(plan.endpoints, proxy) if plan.hinted else plan.served
        if not plan.locality_lb:
            return endpoints, None
        known = self._known.get(id(plan))
        if endpoints is plan.served and known is not None and known[1] is plan:
            return endpoints, self.placements.placements(plan.ref.name, known[2], proxy, endpoints,
                                                         plan.setting, plan.applies)
        # Filtered for this proxy's zone or node: placed for it alone.
        return endpoints, place_endpoints(proxy, endpoints, plan.setting, plan.applies)

    def assignment(self, plan: ClusterPlan, proxy: ProxyView | None) -> endpoint_pb2.ClusterLoadAssignment:
        """The endpoints as `proxy` should see them; for no one in particular, as a proxy with no
        locality would (locality-weighted clusters need weights on every locality)."""
        source = plan.source
        if not plan.per_client:
            return load_assignment(plan.ref.name, plan.served, source)
        endpoints, placements = self.placed(plan, proxy)
        if placements is None:
            return load_assignment(plan.ref.name, endpoints, source)
        return prioritized_assignment(plan.ref.name, group_by_priority(endpoints, placements), source)

    def client_secret(self, plan: ClusterPlan) -> ir.TLSSecret | None:
        """The client certificate the cluster presents upstream (MUTUAL TLS), served over SDS."""
        tls = plan.policy.tls
        return client_certificate(tls, self._secrets) if tls is not None else None

    def gateway_clusters(self, cfg: ir.GatewayConfig, proxy: ProxyView | None = None,
                         labels: dict[str, str] | None = None, waypoint: bool = False) -> GatewayClusters:
        """A gateway's clusters (for `proxy` and its `labels`, when given). For no proxy in
        particular they are kept while the gateway's cluster references and everything the
        builder made them from hold: a route change then costs its own clusters, not a walk
        over every cluster of the gateway."""
        if proxy is not None or labels is not None:
            return self._gateway_clusters(cfg, proxy, labels, waypoint)
        key = (cfg.key, waypoint)
        refs = (cfg.clusters, cfg.weighted_clusters)
        found = self._gateways.get(key)
        used = (refs, cfg.backend_client_certificate)
        if found is not None and found[1] == self._generation and found[0] == used:
            return found[2]
        out = self._gateway_clusters(cfg, None, None, waypoint)
        # Made now, which may itself have planned or built (never dropped) something: the
        # generation it holds for is the current one.
        self._gateways[key] = (used, self._generation, out)
        return out

    def keep_gateways(self, live: set[str]) -> None:
        """Forget the kept clusters of gateways not in `live`."""
        for key in [k for k in self._gateways if k[0] not in live]:
            del self._gateways[key]

    def _gateway_clusters(self, cfg: ir.GatewayConfig, proxy: ProxyView | None, labels: dict[str, str] | None,
                          waypoint: bool) -> GatewayClusters:
        plans = [p for ref in cfg.clusters
                 if (p := self.plan(ref, cfg.namespace, labels, cfg.backend_client_certificate)) is not None]
        hashing = {p.ref.name: hash_policies(p.policy.hash_key) for p in plans if p.policy.hash_key is not None}
        clusters: list[Resource] = []
        endpoints: list[Resource] = []
        client_secrets: list[ir.TLSSecret] = []
        per_client: list[AnyPlan] = []
        for plan in plans:
            vips = None if waypoint else self.via_waypoint.get((plan.ref.service_kind, plan.ref.namespace,
                                                                 plan.ref.service))
            if vips:
                c = waypoint_cluster(plan.ref, vips)
                set_metadata(c, plan.sources)
                clusters.append(make_resource(CLUSTER, c.name, c))
                continue  # to the VIPs, whatever the endpoints: the same for every proxy
            if plan.per_client:
                per_client.append(plan)
            # Shared with every gateway that uses the plan: it names only what made it.
            built, cla = self.build(plan, proxy)
            clusters.append(built)
            if cla is not None:
                endpoints.append(cla)
            client = self.client_secret(plan)
            if client is not None:
                client_secrets.append(client)
        for wc in cfg.weighted_clusters:
            weighted = self.weighted_plan(wc, cfg.namespace, labels, waypoint)
            if weighted.per_client:
                per_client.append(weighted)
            built, cla = self.build(weighted, proxy)
            clusters.append(built)
            if cla is not None:
                endpoints.append(cla)
        return GatewayClusters(plans, hashing, clusters, endpoints, client_secrets, per_client)

    def weighted_plan(self, wc: ir.WeightedCluster, namespace: str, labels: dict[str, str] | None = None,
                      waypoint: bool = False) -> WeightedPlan:
        """The plan of a weighted cluster seen from a gateway in `namespace`: its backends'
        plans (those whose port is gone, and DNS or original-destination ones, whose endpoints
        are no addresses to join, left out)."""
        parts = []
        for ref, weight in wc.backends:
            plan = self.plan(ref, namespace, labels)
            vips = None if waypoint else self.via_waypoint.get((ref.service_kind, ref.namespace, ref.service))
            if plan is not None and (vips or plan.has_eds):
                parts.append(WeightedPart(plan, weight, tuple(vips or ())))
        return WeightedPlan(wc, tuple(parts))

    def plan_of(self, ref: ir.ClusterRef | ir.WeightedCluster, namespace: str, labels: dict[str, str] | None = None,
                waypoint: bool = False, client_certificate: str | None = None) -> AnyPlan | None:
        """The plan of a service port's cluster (presenting `client_certificate`, see `plan`) or
        of a weighted cluster."""
        if isinstance(ref, ir.WeightedCluster):
            return self.weighted_plan(ref, namespace, labels, waypoint)
        return self.plan(ref, namespace, labels, client_certificate)

    def _part_assignment(self, part: WeightedPart, proxy: ProxyView | None) -> endpoint_pb2.ClusterLoadAssignment:
        """A weighted cluster's part as its own cluster sends it to `proxy`: its endpoints, or its VIPs."""
        if part.vips:
            return waypoint_cluster(part.plan.ref, part.vips).load_assignment
        return self.assignment(part.plan, proxy)

    def _build_weighted(self, weighted: WeightedPlan, proxy: ProxyView | None) -> Built:
        """A weighted cluster and its load assignment, kept while its parts' plans hold (with
        their reads, so whatever drops a part's plan drops it too)."""
        shared = proxy is None or not weighted.per_client

        def compute() -> Built:
            cla = merged_assignment(weighted.ref.name, [(p.weight, self._part_assignment(p, proxy))
                                                        for p in weighted.parts])
            c = weighted_cluster(weighted.ref, weighted.sources)
            return make_resource(CLUSTER, c.name, c), make_resource(ENDPOINT, c.name, cla)
        known = [self._known.get(id(p.plan)) for p in weighted.parts]
        if any(k is None or k[1] is not p.plan for k, p in zip(known, weighted.parts)):
            return compute()  # a plan of another builder: not kept
        keys = [k[0] for k in known if k is not None]
        key = ("weighted", weighted.ref, tuple((k[0], k[2], p.vips) for k, p in zip(known, weighted.parts)
                                                if k is not None))

        def compute_kept() -> Built:
            for part_key in keys:
                self._recorder.read_all(self._plans.reads(part_key))
            return compute()
        if shared:
            return self._built.get(key, compute_kept)
        assert proxy is not None
        client_key = (key, tuple(_client_key(p.plan, proxy) if p.per_client else None for p in weighted.parts))
        self._client_keys.setdefault(proxy, set()).add(client_key)
        return self._for_clients.get(client_key, compute_kept)

    def build(self, plan: AnyPlan, proxy: ProxyView | None = None) -> Built:
        """The cluster and, for EDS clusters, its load assignment, serialized (what is kept
        across changes is bytes, not messages: a fraction of the memory)."""
        if isinstance(plan, WeightedPlan):
            return self._build_weighted(plan, proxy)
        shared = proxy is None or not plan.per_client
        known = self._known.get(id(plan))

        def compute() -> Built:
            cla = self.assignment(plan, proxy) if plan.has_eds or plan.inline else None
            c = cluster(plan.ref.name, plan.service.resolution, plan.policy,
                        inline=cla if plan.inline else None, secrets=self._secrets,
                        config_maps=self._config_maps, host=plan.ref.host)
            set_metadata(c, plan.sources)
            return (make_resource(CLUSTER, plan.ref.name, c),
                    make_resource(ENDPOINT, plan.ref.name, cla) if plan.has_eds and cla is not None else None)
        if known is None or known[1] is not plan:
            return compute()  # a plan of another builder: not kept
        plan_reads = self._plans.reads(known[0])

        def compute_kept() -> Built:
            # With its plan's reads, so whatever drops the plan drops the cluster too.
            self._recorder.read_all(plan_reads)
            return compute()
        if shared:
            return self._built.get(known[0], compute_kept)
        assert proxy is not None
        key = (known[0], _client_key(plan, proxy))
        self._client_keys.setdefault(proxy, set()).add(key)
        return self._for_clients.get(key, compute_kept)


def _client_key(plan: ClusterPlan, proxy: ProxyView) -> tuple:
    """What a per-client plan's endpoints depend on in a proxy: its zone and node where topology
    hints filter them, its load-balancing context where locality load balancing places them."""
    topology = (proxy.locality.zone, proxy_node(proxy)) if plan.hinted else None
    placement = lb_context(proxy, plan.setting, plan.applies) if plan.locality_lb else None
    return (topology, placement)


def waypoint_cluster(ref: ir.ClusterRef, vips: tuple[str, ...]) -> cluster_pb2.Cluster:
    """A cluster to a captured service's VIPs on its port, so that traffic passes its waypoint:
    STATIC, the first VIP as the endpoint and any others as its additional addresses."""
    out = cluster_pb2.Cluster(name=ref.name, type=cluster_pb2.Cluster.STATIC,
                              connect_timeout=duration_ms(CONNECT_TIMEOUT_MS))
    if "." in ref.name:
        out.alt_stat_name = stat_name(ref.name)
    lb = out.load_assignment.endpoints.add().lb_endpoints.add()
    out.load_assignment.cluster_name = ref.name
    lb.endpoint.address.socket_address.address = vips[0]
    lb.endpoint.address.socket_address.port_value = ref.port
    for vip in vips[1:]:
        extra = lb.endpoint.additional_addresses.add()
        extra.address.socket_address.address = vip
        extra.address.socket_address.port_value = ref.port
    return out


def build_snapshot(cfg: ir.GatewayConfig, clusters: ClusterBuilder, proxy: ProxyView | None = None,
                   labels: dict[str, str] | None = None, waypoint: bool = False,
                   routes_builder: RouteBuilder | None = None) -> GatewaySnapshot:
    """Spell a gateway's IR as Envoy resources (for one proxy, when `proxy` is given).

    An ingress gateway (not a waypoint) sends to a captured service's VIPs when ingress should
    use its waypoint. `routes_builder`: one that lives across translations, so that route
    messages whose IR did not change are reused (their objects shared with earlier snapshots).
    """
    rb = routes_builder or RouteBuilder()
    snap = GatewaySnapshot(cfg.key)
    needed = {rc.name: filters for rc in cfg.route_configs if (filters := http_filter_entries(rc, rb.filter_wants))}
    scoped = split_configs(cfg.route_configs)
    telemetry = connection_telemetry(cfg)
    snap.listeners = [listener(lst, needed, scoped, telemetry) for lst in cfg.listeners]
    made = clusters.gateway_clusters(cfg, proxy, labels, waypoint)
    hashing = made.hashing
    routes = [rb.route_configuration(rc, hashing) for rc in cfg.route_configs]
    # Served as scopes as well, whether or not its listener uses them (xds/scopes.py).
    source = scope_source(cfg.route_configs)
    for sc, host_routes in rb.scoped(source, hashing) if source is not None else ():
        snap.scope_resources.append(sc)
        routes.append(host_routes)
    snap.route_resources = sorted(routes, key=lambda r: r.name)
    snap.scope_resources.sort(key=lambda s: s.name)
    snap.cluster_resources = list(made.clusters)
    collectors = telemetry_clusters(cfg) + jwks_clusters(cfg)
    if collectors:
        snap.cluster_resources.extend(make_resource(CLUSTER, c.name, c) for c in collectors)
        snap.cluster_resources.sort(key=lambda r: r.name)
    snap.endpoint_resources = list(made.endpoints)
    secrets = {s.name: s for s in cfg.secrets}
    secrets.update((s.name, s) for s in made.client_secrets)
    snap.secrets = [secret(secrets[name]) for name in sorted(secrets)]
    return snap
