"""Gateway API route precedence, as one sort key per (route, rule, match)."""

from __future__ import annotations

from ..resources.gateway_api import HTTPRoute, RouteMatch

_PATH_RANK = {"Exact": 0, "RegularExpression": 1, "PathPrefix": 2}


def precedence_key(route: HTTPRoute, rule_index: int, match_index: int, match: RouteMatch) -> tuple:
    """Sort key: earlier sorts first and so matches first in Envoy.

    The Gateway API order: exact path, then longest prefix (regular expressions, which the spec
    leaves to implementations, between the two, longest first); a method match; more header
    matches; more query matches; then the oldest route, then namespace/name; then rule and
    match order within the route.
    """
    return (
        _PATH_RANK[match.path.type],
        -len(match.path.value),
        0 if match.method else 1,
        -len(match.headers),
        -len(match.query_params),
        route.meta.creation_timestamp,
        route.meta.namespace,
        route.meta.name,
        rule_index,
        match_index,
    )
