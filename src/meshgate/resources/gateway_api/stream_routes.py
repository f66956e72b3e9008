"""TCPRoute, TLSRoute and UDPRoute: routes that forward whole connections (or datagrams) to
weighted backends, with the CRDs' schema checks. They share one shape: parentRefs, (for
TLSRoute) the SNI hostnames, and rules that are only a name and backendRefs."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import ParentRef, check_section_name, parse_backend_object_ref, parse_parent_ref
from .http_route import BackendRef, RouteFilter


@dataclass(frozen=True, slots=True)
class StreamRule:
    """A TCPRouteRule, TLSRouteRule or UDPRouteRule: weighted backends, no matches, no filters."""

    name: str | None
    backend_refs: tuple[BackendRef, ...]
    line: int = field(compare=False)  # where it is written: no part of the spec
    filters: tuple[RouteFilter, ...] = ()  # none: what route code asks of every rule


@dataclass(frozen=True, slots=True)
class TCPRoute:
    """A TCPRoute: every connection to its listener goes to its backends."""

    meta: Meta
    source: Source
    parent_refs: tuple[ParentRef, ...]
    rules: tuple[StreamRule, ...]
    hostnames: tuple[str, ...] = ()
    kind = "TCPRoute"


@dataclass(frozen=True, slots=True)
class TLSRoute:
    """A TLSRoute: TLS connections whose SNI is one of its hostnames go to its backends."""

    meta: Meta
    source: Source
    parent_refs: tuple[ParentRef, ...]
    rules: tuple[StreamRule, ...]
    hostnames: tuple[str, ...] = ()
    kind = "TLSRoute"


@dataclass(frozen=True, slots=True)
class UDPRoute:
    """A UDPRoute: datagrams to its listener go to its backends."""

    meta: Meta
    source: Source
    parent_refs: tuple[ParentRef, ...]
    rules: tuple[StreamRule, ...]
    hostnames: tuple[str, ...] = ()
    kind = "UDPRoute"


def _parse_rules(spec: Fields, max_rules: int) -> list[StreamRule]:
    rules: list[StreamRule] = []
    seen: dict[str, int] = {}
    for rf in spec.maps("rules", required=True, min_items=1, max_items=max_rules):
        name = rf.str("name", check=check_section_name)
        if name is not None:
            if name in seen:
                rf.error("name", f"duplicate rule name {name!r} (first at line {seen[name]})")
            seen[name] = rf.line
        backends: list[BackendRef] = []
        for bf in rf.maps("backendRefs", required=True, min_items=1, max_items=16):
            ref = parse_backend_object_ref(bf)
            weight = bf.int("weight", default=1, min=0, max=1_000_000)
            if ref is not None and weight is not None:
                backends.append(BackendRef(ref, weight, ()))
        rules.append(StreamRule(name, tuple(backends), rf.line))
    return rules


def _parents(spec: Fields) -> tuple[ParentRef, ...]:
    return tuple(p for pf in spec.maps("parentRefs", max_items=32) if (p := parse_parent_ref(pf)) is not None)


def parse_tcp_route(f: Fields, meta: Meta, source: Source) -> TCPRoute:
    """TCPRoute.spec (v1alpha2)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return TCPRoute(meta, source, (), ())
    return TCPRoute(meta, source, _parents(spec), tuple(_parse_rules(spec, 16)))


def parse_udp_route(f: Fields, meta: Meta, source: Source) -> UDPRoute:
    """UDPRoute.spec (v1alpha2)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return UDPRoute(meta, source, (), ())
    return UDPRoute(meta, source, _parents(spec), tuple(_parse_rules(spec, 16)))


def parse_tls_route(f: Fields, meta: Meta, source: Source) -> TLSRoute:
    """TLSRoute.spec (v1: at least one hostname, exactly one rule)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return TLSRoute(meta, source, (), ())
    hostnames = spec.strs("hostnames", required=True, min_items=1, max_items=1024, check=formats.hostname) or []
    return TLSRoute(meta, source, _parents(spec), tuple(_parse_rules(spec, 1)), tuple(hostnames))
