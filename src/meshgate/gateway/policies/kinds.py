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
from .security import apply_security, security_effect

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
    # For a kind whose effect reads other objects (Secrets, ConfigMaps, Services): the effect made
    # from the policy, the store and discovery, instead of `effect`; it is remade each translation
    # and kept when equal to the last one.
    resolved_effect: Callable[[Any, Any, Any], Any] | None = None
    # Why an effect leaves its policy invalid (status Accepted False, reason Invalid), None if not.
    invalid: Callable[[Any], str | None] | None = None
    # The clusters an effect sends to besides the routes' backends (an authorization service's).
    clusters: Callable[[Any], tuple[ir.ClusterRef, ...]] | None = None


POLICY_KINDS: tuple[PolicyKind, ...] = (
    PolicyKind("BackendTrafficPolicy", EG_API_VERSION, lambda p: p.targets, backend_traffic_effect,
               apply_backend_traffic, frozenset({"HTTPRoute", "GRPCRoute"})),
    PolicyKind("SecurityPolicy", EG_API_VERSION, lambda p: p.targets, lambda p: None, apply_security,
               frozenset({"HTTPRoute", "GRPCRoute"}), resolved_effect=security_effect,
               invalid=lambda e: e.invalid, clusters=lambda e: e.clusters if e.invalid is None else ()),
)
