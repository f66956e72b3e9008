"""Hostname intersection between listeners and routes, and listener specificity (Gateway API)."""

from __future__ import annotations


def _wild_covers(wildcard: str, host: str) -> bool:
    """Whether "*.suffix" covers `host` (one or more labels before the suffix)."""
    suffix = wildcard[1:]  # ".suffix"
    return host.endswith(suffix) and len(host) > len(suffix)


def intersect(listener: str | None, route: str) -> str | None:
    """The hostname both a listener hostname and a route hostname accept, or None.

    A wildcard accepts any more specific name below it; of two overlapping names the more
    specific one is the intersection.
    """
    if listener is None or listener == route:
        return route
    lw, rw = listener.startswith("*."), route.startswith("*.")
    if lw and not rw:
        return route if _wild_covers(listener, route) else None
    if rw and not lw:
        return listener if _wild_covers(route, listener) else None
    if lw and rw:
        # The two differ, so whichever's ".suffix" ends with the other's is the longer one.
        if route[1:].endswith(listener[1:]):
            return route
        if listener[1:].endswith(route[1:]):
            return listener
    return None


def effective_hostnames(listener: str | None, route_hostnames: tuple[str, ...]) -> list[str]:
    """The hostnames a route serves through a listener; empty when they do not intersect."""
    if not route_hostnames:
        return [listener or "*"]
    out: list[str] = []
    for h in route_hostnames:
        x = intersect(listener, h)
        if x is not None and x not in out:
            out.append(x)
    return out


def matches(listener: str | None, hostname: str) -> bool:
    """Whether a listener's hostname accepts `hostname` (possibly a wildcard or "*")."""
    if listener is None:
        return True
    if hostname == "*":
        return False
    return intersect(listener, hostname) == hostname


def specificity(listener: str | None) -> tuple[int, int]:
    """Sort key, most specific first: exact names, then longer wildcards, then no hostname."""
    if listener is None:
        return (2, 0)
    if listener.startswith("*."):
        return (1, -len(listener))
    return (0, -len(listener))
