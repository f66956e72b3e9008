"""The rate limit service's table: per domain, a tree of descriptor entries with limits on its
nodes, looked up as envoyproxy/ratelimit does.

A request's descriptor is a list of (key, value) entries. Walking the tree of its domain, each
entry is looked up first as key+value (an exact value the config names), then as the key with an
empty value (any value). The limit is the one on the node the last entry reaches; a descriptor
that runs off the tree, or ends on a node without a limit, has no limit. The bucket a request
counts in is the domain and the request's own entries, so a key matched as "any value" counts
each distinct value apart (each client of a Distinct header, each address of a distinct CIDR).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .. import ir
from .descriptors import ANY, DescriptorLimit, Entry, canonical_entry, service_limits


@dataclass(frozen=True, slots=True)
class Limit:
    """`requests` per `unit_s` seconds; `name`: the rule it comes from."""

    requests: int
    unit_s: int
    name: str


@dataclass(slots=True)
class Node:
    """One node of a domain's descriptor tree: the limit of descriptors ending here, and the
    entries that may follow ((key, value); value ANY for any value)."""

    limit: Limit | None = None
    children: dict[Entry, Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    """What a descriptor matched: its limit, and the bucket it counts in (the domain and the
    descriptor's own entries, address values canonical)."""

    limit: Limit
    bucket: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LimitTable:
    """Domain → descriptor tree. Built once per translation (build_table) and never changed
    after: the service swaps whole tables."""

    domains: Mapping[str, Node] = field(default_factory=dict)

    def lookup(self, domain: str, entries: Sequence[Entry]) -> Match | None:
        """The limit a descriptor of `domain` with these entries falls under, or None."""
        node = self.domains.get(domain)
        if node is None or not entries:
            return None
        bucket = [domain]
        for key, raw in entries:  # bounded by the request's entries
            value = canonical_entry(key, raw)
            child = node.children.get((key, value))
            if child is None:
                child = node.children.get((key, ANY))
            if child is None:
                return None
            node = child
            # Key and value both in the bucket, length-prefixed so no value can forge another's.
            bucket.append(f"{len(key)}:{key}={value}")
        if node.limit is None:
            return None
        return Match(node.limit, tuple(bucket))


def _insert(root: Node, limit: DescriptorLimit) -> None:
    node = root
    for entry in limit.entries:
        node = node.children.setdefault(entry, Node())
    # Route keys are unique per domain, so a path carries one limit; were one repeated, the first
    # stays (a stable answer rather than the last writer's).
    if node.limit is None:
        node.limit = Limit(limit.requests, limit.unit_s, limit.name)


def build_table(domains: Mapping[str, Iterable[tuple[str, ir.RateLimit | None]]]) -> LimitTable:
    """The table for every domain's routes: {domain: [(route key, its rate limit)]} (route keys:
    descriptors.route_key, unique within the domain). Routes without a Global rate limit add
    nothing; a domain with none is left out."""
    out: dict[str, Node] = {}
    for domain, routes in domains.items():
        root = Node()
        for key, limit in routes:
            for dl in service_limits(key, limit):
                _insert(root, dl)
        if root.children:
            out[domain] = root
    return LimitTable(out)


def gateway_limits(configs: Iterable[ir.GatewayConfig]) -> dict[str, list[tuple[str, ir.RateLimit | None]]]:
    """Every Global rate limit the gateways' routes carry, as build_table takes them: {domain:
    [(route key, rate limit)]} (a route served on several virtual hosts counted once)."""
    found: dict[str, dict[str, ir.RateLimit]] = {}
    for cfg in configs:
        for rc in cfg.route_configs:
            for vh in rc.virtual_hosts:
                for r in vh.routes:
                    rl = r.rate_limit
                    if rl is not None and rl.scope == "Global" and rl.domain:
                        found.setdefault(rl.domain, {})[rl.key] = rl
    return {d: [(k, v) for k, v in sorted(routes.items())] for d, routes in sorted(found.items())}
