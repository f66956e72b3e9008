"""The route-kind extension point: what each Gateway API route kind supplies to translation.

Attachment, status, the route table and virtual-host assembly are written once, for any route
object with `meta`, `parent_refs`, `hostnames` and `rules` (each rule with `backend_refs` and
`filters`); a kind adds only what differs: how its rules become IR routes (with their precedence
keys), which of its values meshgate cannot serve, and how its rules are named. A new route kind is
one module defining a RouteKind, listed in gateway/route_kinds.py (Envoy Gateway's RouteContext
and Istio's shared route computation are the models; their copy-pasted per-kind loops are not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import ir
from ..resources.gateway_api import GROUP
from ..resources.meta import metadata_annotations
from .backends import RouteResolution

GROUP_VERSION = f"{GROUP}/v1"


@dataclass(frozen=True, slots=True)
class ListenerContext:
    """What a route needs to know of the listener it is served on (for redirects; `mesh`: a
    waypoint's service port, where backendRefs need no ReferenceGrant)."""

    port: int
    scheme: str  # http or https
    mesh: bool = False


# (route, its resolution, the listener) → (precedence key, IR route) for every match of every rule
IRRoutes = Callable[[Any, RouteResolution, ListenerContext], list[tuple[tuple, ir.Route]]]


@dataclass(frozen=True, slots=True)
class RouteKind:
    """One route kind of the registry (gateway/route_kinds.py).

    `rank` orders kinds sharing a virtual host: the Gateway API forbids merging HTTPRoutes and
    GRPCRoutes, and gRPC routes match only gRPC requests, so they go first. `ir_routes` is None
    for the kinds that forward connections, not requests (TLS, TCP, UDP: their listeners are
    assembled in gateway/stream_listeners.py from their backends). `mesh`: whether a route of
    the kind with a Service parentRef (GAMMA) is served on that Service's waypoint (HTTPRoute and
    GRPCRoute, the kinds the Gateway API's mesh profiles define).
    """

    kind: str
    rank: int
    ir_routes: IRRoutes | None
    rule_problems: Callable[[Any], list[str]]  # one rule → unsupported values (it answers 500)
    rule_id: Callable[[Any, int], str]  # (rule, index) → its name in route names and messages
    group: str = GROUP
    # The kind that may not share a hostname with this one on a listener (gateway/kind_conflicts.py).
    hostname_rival: str | None = None
    mesh: bool = False

    def source(self, route: Any, section: str) -> ir.SourceRef:
        """The metadata source of IR made from one rule of `route`."""
        return ir.SourceRef(self.kind, GROUP_VERSION, route.meta.namespace, route.meta.name, section,
                            metadata_annotations(route.meta.annotations))
