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
from .rules import HTTP_ROUTE, rule_id


def _no_problems(rule: object) -> list[str]:
    return []  # a stream rule is backends alone: nothing in it can be unsupported


# Kinds that forward connections: no HTTP routes (gateway/stream_listeners.py assembles them).
TLS_ROUTE = RouteKind("TLSRoute", 2, None, _no_problems, rule_id)
TCP_ROUTE = RouteKind("TCPRoute", 3, None, _no_problems, rule_id)
UDP_ROUTE = RouteKind("UDPRoute", 4, None, _no_problems, rule_id)

ROUTE_KINDS: Mapping[str, RouteKind] = MappingProxyType(
    {k.kind: k for k in (HTTP_ROUTE, GRPC_ROUTE, TLS_ROUTE, TCP_ROUTE, UDP_ROUTE)})

# The route kinds a listener of each protocol serves (its supportedKinds when allowedRoutes.kinds
# is unset), as Envoy Gateway and Istio default them.
PROTOCOL_KINDS: Mapping[str, tuple[RouteGroupKind, ...]] = MappingProxyType({
    "HTTP": (RouteGroupKind(GROUP, "HTTPRoute"), RouteGroupKind(GROUP, "GRPCRoute")),
    "HTTPS": (RouteGroupKind(GROUP, "HTTPRoute"), RouteGroupKind(GROUP, "GRPCRoute")),
    "TLS": (RouteGroupKind(GROUP, "TLSRoute"),),
    "TCP": (RouteGroupKind(GROUP, "TCPRoute"),),
    "UDP": (RouteGroupKind(GROUP, "UDPRoute"),),
})


def route_kind(kind: str) -> RouteKind:
    """The registry entry of a route kind."""
    return ROUTE_KINDS[kind]
