"""GRPCRoute: gRPC service/method and header matches, filters and backends, with the CRD's schema
and CEL checks (gateway.networking.k8s.io/v1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import (
    ParentRef,
    ValueMatch,
    check_section_name,
    parse_backend_object_ref,
    parse_parent_ref,
    parse_value_matches,
)
from .http_route import BackendRef, RouteFilter, parse_filters

GRPC_FILTER_TYPES = ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "ExtensionRef")
# The CRD's CEL rules for Exact matches (a service may be package-qualified).
_SERVICE = re.compile(r"(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*")
_METHOD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


@dataclass(frozen=True, slots=True)
class MethodMatch:
    """GRPCMethodMatch: type Exact or RegularExpression; None service/method matches any."""

    type: str
    service: str | None
    method: str | None


@dataclass(frozen=True, slots=True)
class GRPCRouteMatch:
    """One GRPCRouteMatch: a method match (None: every method of every service) and headers."""

    method: MethodMatch | None
    headers: tuple[ValueMatch, ...] = ()


@dataclass(frozen=True, slots=True)
class GRPCRouteRule:
    """One GRPCRouteRule."""

    name: str | None
    matches: tuple[GRPCRouteMatch, ...]
    filters: tuple[RouteFilter, ...]
    backend_refs: tuple[BackendRef, ...]
    line: int = field(compare=False)  # where it is written: no part of the spec


@dataclass(frozen=True, slots=True)
class GRPCRoute:
    """A GRPCRoute."""

    meta: Meta
    source: Source
    parent_refs: tuple[ParentRef, ...]
    hostnames: tuple[str, ...]
    rules: tuple[GRPCRouteRule, ...]
    kind = "GRPCRoute"


def _parse_method(f: Fields) -> MethodMatch | None:
    mtype = f.str("type", default="Exact", enum=("Exact", "RegularExpression"))
    service = f.str("service", max_len=1024)
    method = f.str("method", max_len=1024)
    if mtype is None or (f.has("service") and service is None) or (f.has("method") and method is None):
        return None
    if not service and not method:
        f.error(None, "One or both of 'service' or 'method' must be specified")
        return None
    if mtype == "Exact":
        if service and not _SERVICE.fullmatch(service):
            f.error("service", f"invalid value {service!r}: service must only contain valid characters "
                               "(matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)")
            return None
        if method and not _METHOD.fullmatch(method):
            f.error("method", f"invalid value {method!r}: method must only contain valid characters "
                              "(matching ^[A-Za-z_][A-Za-z_0-9]*$)")
            return None
    else:
        for key, value in (("service", service), ("method", method)):
            reason = formats.regex(value) if value else None
            if reason:
                f.error(key, reason)
                return None
    return MethodMatch(mtype, service or None, method or None)


def _parse_match(f: Fields) -> GRPCRouteMatch | None:
    mf = f.map("method")
    method = _parse_method(mf) if mf is not None else None
    if mf is not None and method is None:
        return None
    return GRPCRouteMatch(method, parse_value_matches(f, "headers", case_insensitive=True))


def _parse_rule(f: Fields, seen_names: dict[str, int]) -> GRPCRouteRule:
    name = f.str("name", check=check_section_name)
    if name is not None:
        if name in seen_names:
            f.error("name", f"duplicate rule name {name!r} (first at line {seen_names[name]})")
        seen_names[name] = f.line
    matches = tuple(m for mf in f.maps("matches", max_items=64) if (m := _parse_match(mf)) is not None)
    if not f.has("matches"):
        matches = (GRPCRouteMatch(None),)
    filters = parse_filters(f, "filters", None, GRPC_FILTER_TYPES)
    backends: list[BackendRef] = []
    for bf in f.maps("backendRefs", max_items=16):
        ref = parse_backend_object_ref(bf)
        weight = bf.int("weight", default=1, min=0, max=1_000_000)
        bfilters = parse_filters(bf, "filters", None, GRPC_FILTER_TYPES)
        if ref is not None and weight is not None:
            backends.append(BackendRef(ref, weight, bfilters))
    return GRPCRouteRule(name, matches, filters, tuple(backends), f.line)


def parse_grpc_route(f: Fields, meta: Meta, source: Source) -> GRPCRoute:
    """GRPCRoute.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return GRPCRoute(meta, source, (), (), ())
    parents = [p for pf in spec.maps("parentRefs", max_items=32) if (p := parse_parent_ref(pf)) is not None]
    hostnames = spec.strs("hostnames", max_items=16, check=formats.hostname) or []
    seen: dict[str, int] = {}
    rules = [_parse_rule(rf, seen) for rf in spec.maps("rules", max_items=16)]
    if sum(len(r.matches) for r in rules) > 128:
        spec.error("rules", "the total number of matches across all rules in a route must be less than 128")
    if not spec.has("rules"):
        # A route without rules forwards nothing: one rule matching every method, with no backends.
        rules = [GRPCRouteRule(None, (GRPCRouteMatch(None),), (), (), spec.line)]
    return GRPCRoute(meta, source, tuple(parents), tuple(hostnames), tuple(rules))
