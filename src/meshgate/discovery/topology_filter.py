"""Which endpoints one proxy uses, from EndpointSlice topology hints (kube-proxy's rules).

As kube-proxy's CategorizeEndpoints: use the node hints when every ready endpoint carries
them and one names this proxy's node; else the zone hints when every ready endpoint carries
them and one names this proxy's zone; else every ready endpoint. When no ready endpoint is
left, fall back to the serving-terminating ones (all of them, hints aside).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import DRAINING, HEALTHY, EndpointModel

NODE = "node"
ZONE = "zone"


@dataclass(frozen=True, slots=True)
class Categorized:
    """The endpoints a proxy uses, which hints decided, and why (for explanations)."""

    endpoints: tuple[EndpointModel, ...]
    mode: str  # "node", "zone" or "" (no topology filtering)
    reason: str


def has_hints(endpoints: Sequence[EndpointModel]) -> bool:
    """Whether any endpoint carries zone or node hints (then proxies may see different sets)."""
    return any(ep.hints_zones or ep.hints_nodes for ep in endpoints)


def topology_mode(endpoints: Sequence[EndpointModel], zone: str, node: str) -> tuple[str, str]:
    """("node" | "zone" | "", reason) for a proxy in `zone` on `node`."""
    ready = [ep for ep in endpoints if ep.health == HEALTHY]
    all_node = all(ep.hints_nodes for ep in ready)
    all_zone = all(ep.hints_zones for ep in ready)
    for_node = bool(node) and any(node in (ep.hints_nodes or ()) for ep in ready)
    for_zone = bool(zone) and any(zone in (ep.hints_zones or ()) for ep in ready)
    if ready and all_node and for_node:
        return NODE, f"every ready endpoint has node hints and some are for node {node}"
    if not ready or not all_zone:
        return "", "one or more ready endpoints have no zone hint: no topology filtering"
    if for_zone:
        return ZONE, f"every ready endpoint has zone hints and some are for zone {zone}"
    if not zone:
        return "", "the proxy has no zone: topology hints ignored"
    return "", f"no ready endpoint has a hint for zone {zone}: topology hints ignored"


def categorize(endpoints: Sequence[EndpointModel], zone: str, node: str) -> Categorized:
    """The endpoints a proxy in `zone` on `node` sends to."""
    mode, reason = topology_mode(endpoints, zone, node)
    chosen = tuple(
        ep for ep in endpoints
        if ep.health == HEALTHY
        and (mode != NODE or node in (ep.hints_nodes or ()))
        and (mode != ZONE or zone in (ep.hints_zones or ()))
    )
    if not chosen:
        fallback = tuple(ep for ep in endpoints if ep.health == DRAINING)
        if fallback:
            return Categorized(fallback, mode, "no ready endpoint: serving-terminating endpoints used")
    return Categorized(chosen, mode, reason)
