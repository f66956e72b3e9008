"""The route kinds meshgate translates, and the kinds each listener protocol carries.

The registry of gateway/route_kind.py: a kind listed here is read from the store, attached to
the listeners that allow it, translated and given status, with nothing else to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..resources.gateway_api import GROUP, RouteGroupKind
from .grpc_rules import GRPC_ROUTE
from .route_kind import RouteKind
from .rules import HTTP_ROUTE

ROUTE_KINDS: Mapping[str, RouteKind] = MappingProxyType({k.kind: k for k in (HTTP_ROUTE, GRPC_ROUTE)})

# The route kinds a listener of each protocol serves (its supportedKinds when allowedRoutes.kinds
# is unset), as Envoy Gateway and Istio default them.
PROTOCOL_KINDS: Mapping[str, tuple[RouteGroupKind, ...]] = MappingProxyType({
    "HTTP": (RouteGroupKind(GROUP, "HTTPRoute"), RouteGroupKind(GROUP, "GRPCRoute")),
    "HTTPS": (RouteGroupKind(GROUP, "HTTPRoute"), RouteGroupKind(GROUP, "GRPCRoute")),
})


def route_kind(kind: str) -> RouteKind:
    """The registry entry of a route kind."""
    return ROUTE_KINDS[kind]
