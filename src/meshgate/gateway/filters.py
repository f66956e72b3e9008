"""The HTTPRoute filter registry: what each filter type does to the routes of its rule.

Each supported type maps to one function giving the effect it has (`RuleEffects` field → value);
a type not listed here is not supported and makes its rule answer 500 (rules.rule_problems). A
new filter is one function and one entry. RequestMirror is listed with no effect: its backends
are resolved with the route's other references (backends.resolve_route) and become mirrors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .. import ir
from ..resources.gateway_api import HeaderModifier, RouteFilter
from ..resources.gateway_api.http_route import CORS


@dataclass(slots=True)
class RuleEffects:
    """What a rule's filters ask of its routes."""

    request_headers: ir.HeaderMutation | None = None
    response_headers: ir.HeaderMutation | None = None
    redirect: RouteFilter | None = None  # made into ir.Redirect per match (it needs the match's path)
    rewrite: RouteFilter | None = None
    cors: ir.Cors | None = None


def mutation(mod: HeaderModifier | None) -> ir.HeaderMutation | None:
    """A header modifier filter as IR."""
    if mod is None:
        return None
    return ir.HeaderMutation(mod.set, mod.add, mod.remove)


def _origin(origin: str) -> ir.ValueMatch:
    """An allowed origin: `*` any, `https://*.example.com` any host below example.com (with any
    number of labels left of the `*`, as upstream's test asks), else exact."""
    if origin == "*":
        return ir.ValueMatch("", ".*", regex=True)
    if "*" in origin:
        return ir.ValueMatch("", ".*".join(re.escape(part) for part in origin.split("*")), regex=True)
    return ir.ValueMatch("", origin)


def cors_policy(cors: CORS | None) -> ir.Cors | None:
    """The CORS filter's policy as IR."""
    if cors is None:
        return None
    return ir.Cors(tuple(_origin(o) for o in cors.allow_origins), cors.allow_methods, cors.allow_headers,
                   cors.expose_headers, cors.max_age, cors.allow_credentials)


Effect = Callable[[RouteFilter], tuple[str, object]]

FILTERS: Mapping[str, Effect | None] = MappingProxyType({
    "RequestHeaderModifier": lambda f: ("request_headers", mutation(f.request_header_modifier)),
    "ResponseHeaderModifier": lambda f: ("response_headers", mutation(f.response_header_modifier)),
    "RequestRedirect": lambda f: ("redirect", f),
    "URLRewrite": lambda f: ("rewrite", f),
    "CORS": lambda f: ("cors", cors_policy(f.cors)),
    "RequestMirror": None,
})


def supported(filter_type: str) -> bool:
    """Whether meshgate serves rules with this filter type."""
    return filter_type in FILTERS


def rule_effects(filters: list[RouteFilter]) -> RuleEffects:
    """The effects of a rule's (supported) filters."""
    effects = RuleEffects()
    for f in filters:
        effect = FILTERS.get(f.type)
        if effect is not None:
            name, value = effect(f)
            setattr(effects, name, value)
    return effects
