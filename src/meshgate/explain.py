"""`meshgate explain endpoints`: why each endpoint of a cluster gets its priority and weight;
`meshgate explain cluster`: what made a cluster, and which routes send to it.

The same computation as serving (the cluster's plan, then placement for one proxy), shown
endpoint by endpoint with the rule that decided it. A cluster's xDS metadata names only what
made it; the routes using it are looked up here, from the config, rather than stored in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .discovery.index import Discovery
from .discovery.locality import ProxyView, locality_text
from .discovery.model import DRAINING, HEALTHY
from .discovery.topology_filter import topology_mode
from .gateway.translate import translate_gateways
from .ir import ClusterRef, GatewayConfig, SourceRef, WeightedCluster
from .pipeline import cluster_builder
from .store import Store
from .xds.snapshot import NOWHERE, proxy_node


@dataclass(frozen=True, slots=True)
class EndpointExplanation:
    """One endpoint as a given proxy sees it."""

    address: str
    port: int
    locality: str
    labels: dict[str, str]
    health: str
    priority: int
    weight: int | None
    sent: bool
    rule: str


@dataclass(frozen=True, slots=True)
class ClusterExplanation:
    """A cluster's policy source and its endpoints' placements."""

    cluster: str
    service: str
    destination_rule: str  # "ns/name", or "" when none applies
    mode: str  # how locality load balancing applies, in words
    endpoints: tuple[EndpointExplanation, ...]


@dataclass(frozen=True, slots=True)
class ClusterUser:
    """A route (or TCP filter chain) that sends to a cluster, and the object it comes from."""

    envoy_name: str  # the Envoy route's name, or the filter chain's
    kind: str
    namespace: str
    name: str
    section_name: str | None  # the rule: its name, else its index


@dataclass(frozen=True, slots=True)
class ClusterUsers:
    """What made a cluster (its xDS metadata) and what uses it (not in its metadata)."""

    cluster: str
    gateway: str
    sources: tuple[str, ...]  # "Kind ns/name", as the cluster's metadata names them
    users: tuple[ClusterUser, ...]


class ExplainError(Exception):
    """The gateway or cluster asked about does not exist."""


def cluster_users(cfg: GatewayConfig) -> dict[str, list[tuple[str, SourceRef]]]:
    """Cluster name → (Envoy route or chain name, source) of each route rule and TCP chain of
    this gateway that sends to it (backends and mirrors)."""
    users: dict[str, list[tuple[str, SourceRef]]] = {}
    for rc in cfg.route_configs:
        for vh in rc.virtual_hosts:
            for r in vh.routes:
                if r.source is None:
                    continue
                for name in sorted({*(b.cluster for b in r.backends if b.cluster), *(m.cluster for m in r.mirrors)}):
                    users.setdefault(name, []).append((r.name, r.source))
    for lst in cfg.listeners:
        for chain in lst.filter_chains:
            # A stream chain's backends (TCPRoute, TLSRoute, UDPRoute), and the clusters a weighted
            # cluster is made of: the chain sends to those too.
            names = {chain.tcp_cluster, *(b.cluster for b in chain.tcp_backends or ())}
            if chain.weighted is not None:
                names.update(ref.name for ref, _ in chain.weighted.backends)
            for name in sorted(n for n in names if n):
                users.setdefault(name, []).extend((chain.name, s) for s in chain.sources)
    return users


def _gateway_cluster(store: Store, discovery: Discovery, gateway: str, cluster: str,
                     now: str) -> tuple[GatewayConfig, ClusterRef | WeightedCluster]:
    """The gateway's config and the reference of one of its clusters (a service port's, or a
    weighted one made of those)."""
    configs = {c.key: c for c in translate_gateways(store, discovery, now).gateways}
    if gateway not in configs:
        raise ExplainError(f"no gateway {gateway} of ours; known: {', '.join(sorted(configs)) or 'none'}")
    cfg = configs[gateway]
    refs: list[ClusterRef | WeightedCluster] = [*cfg.clusters, *cfg.weighted_clusters]
    ref = next((r for r in refs if r.name == cluster), None)
    if ref is None:
        known = ", ".join(r.name for r in refs) or "none"
        raise ExplainError(f"gateway {gateway} has no cluster {cluster!r}; its clusters: {known}")
    return cfg, ref


def explain_cluster(store: Store, gateway: str, cluster: str, labels: dict[str, str] | None,
                    now: str) -> ClusterUsers:
    """What made `cluster` of `gateway` and every route rule (and TCP chain) that sends to it."""
    discovery = Discovery(store)
    cfg, ref = _gateway_cluster(store, discovery, gateway, cluster, now)
    plan = cluster_builder(store, discovery).plan_of(ref, cfg.namespace, labels, cfg.waypoint)
    sources = tuple(f"{s.kind} {s.namespace}/{s.name}" for s in plan.sources) if plan is not None else ()
    users = tuple(ClusterUser(name, s.kind, s.namespace, s.name, s.section_name)
                  for name, s in cluster_users(cfg).get(cluster, ()))
    return ClusterUsers(cluster, gateway, sources, users)


def explain_endpoints(store: Store, gateway: str, cluster: str, proxy: ProxyView | None,
                      labels: dict[str, str] | None, now: str) -> ClusterExplanation:
    """Explain the endpoints of `cluster` as a proxy of `gateway` with this identity sees them."""
    discovery = Discovery(store)
    cfg, ref = _gateway_cluster(store, discovery, gateway, cluster, now)
    if isinstance(ref, WeightedCluster):
        parts = ", ".join(r.name for r, _ in ref.backends)
        raise ExplainError(f"cluster {cluster} is made of other clusters' endpoints (a {ref.source.kind}'s "
                           f"weighted backends): explain those instead: {parts}")
    builder = cluster_builder(store, discovery)
    plan = builder.plan(ref, cfg.namespace, labels)
    if plan is None:
        raise ExplainError(f"cluster {cluster}: its service port no longer exists")
    view = proxy or NOWHERE
    # What serving sends this proxy: topology hints first, then locality placement.
    sent, placements = builder.placed(plan, view)
    if plan.locality_lb:
        s = plan.setting
        assert s is not None  # locality_lb implies a setting
        mode = ("distribute" if s.distribute else
                f"failoverPriority {list(s.failover_priority)}" if s.failover_priority and not s.failover else
                f"failover {[f'{a}->{b}' for a, b in s.failover]}" + (
                    f" and failoverPriority {list(s.failover_priority)}" if s.failover_priority else "")
                if s.failover else "default (subzone, zone, region)")
        if plan.forced:
            mode += f", forced by {plan.locality_source}"
    else:
        if plan.policy.locality.disabled:
            reason = plan.locality_source  # the DestinationRule turns it off, whatever the service asks
        elif plan.policy.rule is None:
            reason = "no DestinationRule"
        else:
            reason = "no outlierDetection: failover does not apply"
        source = plan.service.traffic_distribution_source
        if source and plan.service.traffic_distribution:
            reason += f"; the DestinationRule's localityLbSetting wins over {source}"
        elif source:
            reason += f"; {source}"
        mode = f"off ({reason})"
    if plan.hinted:
        mode += f"; topology hints: {topology_mode(plan.endpoints, view.locality.zone, proxy_node(view))[1]}"
    at = {(ep.address, ep.port): i for i, ep in enumerate(sent)}
    rows = []
    for ep in plan.endpoints:
        i = at.get((ep.address, ep.port))
        if i is None:
            why = ("left out by topology hints (for another zone or node)" if ep.health == HEALTHY
                   else "not ready: topology filtering sends ready endpoints only")
            rows.append(EndpointExplanation(ep.address, ep.port, locality_text(ep.locality), dict(ep.labels),
                                            ep.health, 0, None, False, why))
            continue
        p = placements[i] if placements is not None else None
        rule = p.rule if p else "every endpoint at priority 0"
        if ep.health != sent[i].health:
            rule += "; serving-terminating, sent as HEALTHY: no endpoint is ready (kube-proxy's fallback)"
        elif ep.health == DRAINING:
            rule += "; serving-terminating, sent as DRAINING: no traffic while an endpoint is ready"
        elif ep.health != HEALTHY:
            rule += f"; not ready, sent as {ep.health}: no traffic (panic mode is off)"
        rows.append(EndpointExplanation(
            ep.address, ep.port, locality_text(ep.locality), dict(ep.labels), ep.health,
            p.priority if p else 0, p.weight if p else None, not (p.excluded if p else False), rule,
        ))
    rows.sort(key=lambda r: (r.priority, r.locality, r.address, r.port))
    dr_ref = plan.policy.rule
    dr = f"{dr_ref.namespace}/{dr_ref.name}" if dr_ref is not None else ""
    return ClusterExplanation(cluster, f"{plan.service.kind} {plan.service.namespace}/{plan.service.name}",
                              dr, mode, tuple(rows))
