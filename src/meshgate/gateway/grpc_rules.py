"""GRPCRoute rules to IR routes: a gRPC method is the HTTP/2 path /<service>/<method>.

Service and method matches become path matches (exact /svc/Method, the prefix /svc for every
method of a service, a regex otherwise), restricted to gRPC requests so that an HTTPRoute
sharing the virtual host never sees a gRPC call and no gRPC route answers a browser.
"""

from __future__ import annotations

import re

from .. import ir
from ..resources.gateway_api.grpc_route import GRPCRoute, GRPCRouteMatch, GRPCRouteRule, MethodMatch
from .backends import Resolution, RouteResolution
from .filters import mutation
from .route_kind import ListenerContext, RouteKind
from .rules import mirrors_of, rule_id, weighted_backends

UNSUPPORTED_FILTERS = ("ExtensionRef",)
_ANY_SEGMENT = "[^/]+"


def _path(m: MethodMatch | None) -> tuple[str, str]:
    """(path kind, path) of a method match, as ir.RouteMatch has them."""
    if m is None:
        return "prefix", "/"
    if m.type == "Exact":
        if m.service and m.method:
            return "exact", f"/{m.service}/{m.method}"
        if m.service:
            return "prefix", f"/{m.service}"
        return "regex", f"/{_ANY_SEGMENT}/{re.escape(m.method or '')}"
    return "regex", f"/{m.service or _ANY_SEGMENT}/{m.method or _ANY_SEGMENT}"


def _ir_match(m: GRPCRouteMatch) -> ir.RouteMatch:
    kind, path = _path(m.method)
    headers = tuple(ir.ValueMatch(h.name, h.value, h.type == "RegularExpression") for h in m.headers)
    return ir.RouteMatch(kind, path, headers, grpc=True)


def grpc_rule_problems(rule: GRPCRouteRule) -> list[str]:
    """Unsupported values in a rule that make it answer an error instead of being served."""
    problems = [f"filter type {f.type} is not supported" for f in rule.filters if f.type in UNSUPPORTED_FILTERS]
    for b in rule.backend_refs:
        problems.extend(f"filter type {f.type} is not supported on a backendRef" for f in b.filters
                        if f.type not in ("RequestHeaderModifier", "ResponseHeaderModifier"))
    return problems


def precedence_key(route: GRPCRoute, rule_index: int, match_index: int, match: GRPCRouteMatch) -> tuple:
    """The GRPCRoute order: the most characters of a matching service, then of a method, then the
    most header matches; then the oldest route, namespace/name, rule and match order."""
    method = match.method
    return (
        -len(method.service or "") if method else 0,
        -len(method.method or "") if method else 0,
        -len(match.headers),
        route.meta.creation_timestamp,
        route.meta.namespace,
        route.meta.name,
        rule_index,
        match_index,
    )


def translate_grpc_rule(route: GRPCRoute, rule: GRPCRouteRule, rule_index: int, backends: list[Resolution],
                        mirrors: list[Resolution]) -> list[ir.Route]:
    """One IR route per match of a rule (backends and mirrors resolved by the caller)."""
    rid = rule_id(rule, rule_index)
    source = GRPC_ROUTE.source(route, rid)
    request_headers = response_headers = None
    for f in rule.filters:
        if f.type == "RequestHeaderModifier":
            request_headers = mutation(f.request_header_modifier)
        elif f.type == "ResponseHeaderModifier":
            response_headers = mutation(f.response_header_modifier)
    weighted = weighted_backends(rule.backend_refs, backends)
    serving = not grpc_rule_problems(rule) and any(b.cluster for b in weighted)
    out: list[ir.Route] = []
    for mi, m in enumerate(rule.matches):
        name = f"{route.meta.namespace}/{route.meta.name}/rule/{rid}/match/{mi}"
        if not serving:
            # No usable backend, or an unsupported filter: the spec's 500 (gRPC clients see UNKNOWN).
            out.append(ir.Route(name, _ir_match(m), direct_status=500, response_headers=response_headers, source=source,
                                rule_name=rule.name))
            continue
        out.append(ir.Route(name, _ir_match(m), backends=tuple(weighted), request_headers=request_headers,
                            response_headers=response_headers, mirrors=mirrors_of(rule.filters, mirrors),
                            source=source, rule_name=rule.name))
    return out


def grpc_ir_routes(route: GRPCRoute, res: RouteResolution, listener: ListenerContext) -> list[tuple[tuple, ir.Route]]:
    """(precedence key, IR route) for every match of every rule of a GRPCRoute."""
    entries: list[tuple[tuple, ir.Route]] = []
    for ri, rule in enumerate(route.rules):
        ir_routes = translate_grpc_rule(route, rule, ri, res.backends[ri], res.mirrors[ri])
        entries.extend((precedence_key(route, ri, mi, m), r) for mi, (m, r) in enumerate(zip(rule.matches, ir_routes)))
    return entries


GRPC_ROUTE = RouteKind("GRPCRoute", 0, grpc_ir_routes, grpc_rule_problems, rule_id, hostname_rival="HTTPRoute",
                       mesh=True)
