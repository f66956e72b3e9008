"""HTTPRoute against GRPCRoute on one listener: the Gateway API's cross-serving rule.

When routes of the two kinds attach to the same listener with hostnames that intersect, exactly
one of them is accepted: the older (creation timestamp, then "{namespace}/{name}"), which is the
order translation serves routes in. The other's parentRef is not accepted there (Accepted False,
HostnameConflict, as Istio and Traefik name it); a parentRef keeps the listeners where it does
not conflict. Which kinds are rivals is the registry's `hostname_rival` (gateway/route_kind.py).
"""

from __future__ import annotations

from .conditions import Condition
from .hostnames import intersect

# (gateway namespace, name), the listener's index in its GatewayState
ListenerKey = tuple[tuple[str, str], int]


def overlaps(a: str, b: str) -> bool:
    """Whether two hostnames a listener serves (possibly "*", any host) share a host."""
    return a == "*" or b == "*" or intersect(a, b) is not None


class HostnameClaims:
    """The hostnames each route kind serves on each listener so far in one translation (routes
    are served oldest first, so a claim is always the older route's)."""

    __slots__ = ("_claims",)

    def __init__(self) -> None:
        self._claims: dict[ListenerKey, dict[str, list[str]]] = {}

    def claim(self, kind: str, listener: ListenerKey, hostnames: list[str]) -> None:
        """Record that a route of `kind` serves `hostnames` on `listener`."""
        self._claims.setdefault(listener, {}).setdefault(kind, []).extend(hostnames)

    def taken(self, kind: str, listener: ListenerKey, hostnames: list[str]) -> str | None:
        """A hostname routes of `kind` already serve on `listener` that intersects `hostnames`."""
        for held in self._claims.get(listener, {}).get(kind, ()):
            if any(overlaps(held, h) for h in hostnames):
                return held
        return None


def conflict_condition(kind: str, rival: str, hostname: str) -> Condition:
    """The Accepted condition of a parentRef whose every listener an older rival route holds."""
    return Condition("Accepted", False, "HostnameConflict",
                     f"An older {rival} serves hostname {hostname} on this listener; a {kind} and a "
                     f"{rival} cannot share a hostname on one listener")
