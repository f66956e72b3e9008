"""The policy kinds meshgate applies, each one module: what it targets, which route kinds it
applies to, and what it does to a route (and the clusters the route sends to)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ... import ir
from ...resources.envoy_gateway.common import PolicyTargets
from .backend_traffic import API_VERSION as EG_API_VERSION
from .backend_traffic import apply_backend_traffic, backend_traffic_effect
from .route_context import RouteContext

VariantOf = Callable[[ir.ClusterRef, Any], ir.ClusterRef]


# (route, the policy's effect, the gateway's clusters by name, the variant of a cluster, where) → the route.
ApplyRoute = Callable[[ir.Route, Any, Mapping[str, ir.ClusterRef], VariantOf, RouteContext], ir.Route]


@dataclass(frozen=True, slots=True)
class PolicyKind:
    """One policy kind: its name and API version, its targets, what a policy of it does in IR
    terms (`effect`, made once per policy and translation) and how that changes a route."""

    kind: str
    api_version: str
    targets: Callable[[Any], PolicyTargets]
    effect: Callable[[Any], Any]
    apply_route: ApplyRoute
    route_kinds: frozenset[str]  # the kinds of route it changes (others: Accepted False)


POLICY_KINDS: tuple[PolicyKind, ...] = (
    PolicyKind("BackendTrafficPolicy", EG_API_VERSION, lambda p: p.targets, backend_traffic_effect,
               apply_backend_traffic, frozenset({"HTTPRoute", "GRPCRoute"})),
)
