"""Where a policy is being applied to a route: the Gateway and the route configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RouteContext:
    """Where a route is being served: its Gateway (namespace, name) and route configuration."""

    gateway: tuple[str, str]
    route_config: str
