"""Which DestinationRule applies to a host, for a proxy in a namespace with some labels.

As Istio: only rules exported to the proxy's namespace count; a rule with a workloadSelector
applies only to matching proxies of its own namespace, and then before the rules without one;
rules in the proxy's namespace come first, then the host's exact match before the most
specific wildcard, then the oldest. Rules for the same host at the same level merge: the
oldest one's traffic policy, every subset once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ..naming import full_host
from ..resources.istio import DestinationRule, TrafficPolicy
from .model import exported_to, selector_matches


def _host_rank(rule_host: str, host: str) -> int | None:
    """0 for an exact match, else the number of wildcard-free characters (more is better); None: no match."""
    if rule_host == host:
        return 1 << 20
    if rule_host == "*":
        return 0
    if rule_host.startswith("*.") and host.endswith(rule_host[1:]) and len(host) > len(rule_host) - 1:
        return len(rule_host)
    return None


def _visible(rule: DestinationRule, namespace: str) -> bool:
    # An empty exportTo exports everywhere.
    return exported_to(rule.export_to or ("*",), rule.meta.namespace, namespace)


def destination_rule_for(rules: Iterable[DestinationRule], host: str, namespace: str,
                         labels: dict[str, str] | None = None) -> DestinationRule | None:
    """The (merged) rule for `host` as seen by a proxy in `namespace` with `labels`."""
    scored = []
    for rule in rules:
        if not _visible(rule, namespace):
            continue
        if rule.workload_selector is not None and (
                rule.meta.namespace != namespace or labels is None
                or not selector_matches(rule.workload_selector, labels)):
            continue
        rank = _host_rank(full_host(rule.host, rule.meta.namespace), host)
        if rank is None:
            continue
        local = rule.meta.namespace == namespace
        # A rule selecting this proxy by label beats the namespace-wide rules for its host.
        selected = rule.workload_selector is not None
        scored.append(((0 if local else 1, 0 if selected else 1, -rank, rule.meta.creation_timestamp,
                        rule.meta.namespace, rule.meta.name), rule))
    if not scored:
        return None
    scored.sort(key=lambda s: s[0])
    best_key, best = scored[0]
    same_level = [r for k, r in scored[1:] if k[:3] == best_key[:3]]
    if not same_level:
        return best
    subsets = {s.name: s for s in best.subsets}
    for other in same_level:
        for s in other.subsets:
            subsets.setdefault(s.name, s)
    return dataclasses.replace(best, subsets=tuple(subsets.values()))


def port_policy(policy: TrafficPolicy | None, port: int) -> TrafficPolicy | None:
    """The traffic policy for one port: portLevelSettings override the rule-wide sections."""
    if policy is None:
        return None
    for pl in policy.port_level_settings:
        if pl.port == port:
            return dataclasses.replace(
                policy,
                load_balancer=pl.load_balancer or policy.load_balancer,
                connection_pool=pl.connection_pool or policy.connection_pool,
                outlier_detection=pl.outlier_detection or policy.outlier_detection,
                tls=pl.tls or policy.tls,
                port_level_settings=(),
            )
    return policy
