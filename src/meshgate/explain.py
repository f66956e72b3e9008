"""`meshgate explain endpoints`: why each endpoint of a cluster gets its priority and weight.

The same computation as serving (the cluster's plan, then placement for one proxy), shown
endpoint by endpoint with the rule that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .discovery.index import Discovery
from .discovery.locality import ProxyView, locality_text
from .discovery.model import DRAINING, HEALTHY
from .discovery.topology_filter import topology_mode
from .gateway.translate import translate_gateways
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


class ExplainError(Exception):
    """The gateway or cluster asked about does not exist."""


def explain_endpoints(store: Store, gateway: str, cluster: str, proxy: ProxyView | None,
                      labels: dict[str, str] | None, now: str) -> ClusterExplanation:
    """Explain the endpoints of `cluster` as a proxy of `gateway` with this identity sees them."""
    discovery = Discovery(store)
    configs = {c.key: c for c in translate_gateways(store, discovery, now).gateways}
    if gateway not in configs:
        raise ExplainError(f"no gateway {gateway} of ours; known: {', '.join(sorted(configs)) or 'none'}")
    cfg = configs[gateway]
    ref = next((r for r in cfg.clusters if r.name == cluster), None)
    if ref is None:
        known = ", ".join(r.name for r in cfg.clusters) or "none"
        raise ExplainError(f"gateway {gateway} has no cluster {cluster!r}; its clusters: {known}")
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
        lb = plan.policy.load_balancer if plan.policy is not None else None
        if lb is not None and lb.locality_lb_setting is not None and lb.locality_lb_setting.enabled is False:
            reason = plan.locality_source  # the DestinationRule turns it off, whatever the service asks
        elif plan.rule is None:
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
    dr = f"{plan.rule.meta.namespace}/{plan.rule.meta.name}" if plan.rule is not None else ""
    return ClusterExplanation(cluster, f"{plan.service.kind} {plan.service.namespace}/{plan.service.name}",
                              dr, mode, tuple(rows))
