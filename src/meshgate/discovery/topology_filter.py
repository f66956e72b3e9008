"""Which endpoints one proxy uses, from EndpointSlice topology hints (kube-proxy's rules).

As kube-proxy's CategorizeEndpoints: use the node hints when every ready endpoint carries
them and one names this proxy's node; else the zone hints when every ready endpoint carries
them and one names this proxy's zone; else every ready endpoint. When no ready endpoint is
left, fall back to the serving-terminating ones (all of them, hints aside).

Envoy does not route to a DRAINING endpoint, so the fallback endpoints are sent as HEALTHY;
with no hints, :func:`serving_fallback` does that and keeps every other endpoint as it is.
"""

from __future__ import annotations

import dataclasses
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


def serving_fallback(endpoints: tuple[EndpointModel, ...]) -> tuple[EndpointModel, ...]:
    """kube-proxy's fallback without topology filtering: when no endpoint is ready, the
    serving-terminating ones become HEALTHY (the others keep their health, so Envoy still counts
    them); otherwise `endpoints` itself, unchanged."""
    if any(ep.health == HEALTHY for ep in endpoints) or not any(ep.health == DRAINING for ep in endpoints):
        return endpoints
    return tuple(dataclasses.replace(ep, health=HEALTHY) if ep.health == DRAINING else ep for ep in endpoints)
