"""HTTPRoute rules to IR routes: matches, filters, backends, timeouts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, TypedDict

from .. import ir
from ..resources.gateway_api import (
    BackendRef,
    HTTPRoute,
    PathModifier,
    RouteFilter,
    RouteMatch,
    RouteRetry,
    RouteRule,
    SessionPersistence,
)
from .backends import Resolution, RouteResolution
from .filters import mutation, rule_effects, supported
from .precedence import precedence_key
from .route_kind import ListenerContext, RouteKind

WELL_KNOWN_PORTS = {"http": 80, "https": 443}
BACKEND_FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier")
# Envoy redirects and rewrites per route, not per weighted cluster: on a backendRef these work
# only when it is the rule's one backend, where they mean the same as on the rule.
SOLE_BACKEND_FILTERS = ("RequestRedirect", "URLRewrite")
# Envoy retries this many times when a rule's retry leaves attempts unset (its own default).
DEFAULT_RETRIES = 1


class NamedRule(Protocol):
    """A route rule of any kind: it may have a name."""

    @property
    def name(self) -> str | None: ...


class _RouteCommon(TypedDict):
    """The ir.Route fields every route of one match shares, whatever it does."""

    name: str
    match: ir.RouteMatch
    source: ir.SourceRef
    response_headers: ir.HeaderMutation | None
    cors: ir.Cors | None
    rule_name: str | None


def _ir_match(m: RouteMatch) -> ir.RouteMatch:
    ptype, value = m.path.type, m.path.value
    if ptype == "Exact":
        kind = "exact"
    elif ptype == "RegularExpression":
        kind = "regex"
    else:
        kind = "prefix"
        # "/foo/" and "/foo" are the same prefix: matching is per path segment.
        if value != "/":
            value = value.rstrip("/") or "/"
    return ir.RouteMatch(
        kind,
        value,
        tuple(ir.ValueMatch(h.name, h.value, h.type == "RegularExpression") for h in m.headers),
        tuple(ir.ValueMatch(q.name, q.value, q.type == "RegularExpression") for q in m.query_params),
        m.method,
    )


def rule_id(rule: NamedRule, index: int) -> str:
    """The rule's name, else its index: how a rule is named in route names and metadata."""
    return rule.name if rule.name is not None else str(index)


def rule_problems(rule: RouteRule) -> list[str]:
    """Unsupported values in a rule that make it answer 500 instead of being served."""
    problems: list[str] = []
    for f in rule.filters:
        if not supported(f.type):
            problems.append(f"filter type {f.type} is not supported")
    for b in rule.backend_refs:
        for f in b.filters:
            if f.type in BACKEND_FILTERS:
                continue
            if f.type not in SOLE_BACKEND_FILTERS:
                problems.append(f"filter type {f.type} is not supported on a backendRef")
            elif len(rule.backend_refs) != 1:
                problems.append(f"filter type {f.type} on a backendRef needs it to be the rule's only backendRef "
                                "(Envoy applies it per route, not per weighted backend)")
            elif any(rf.type in SOLE_BACKEND_FILTERS for rf in rule.filters):
                problems.append(f"filter type {f.type} on a backendRef conflicts with the rule's "
                                f"{' and '.join(rf.type for rf in rule.filters if rf.type in SOLE_BACKEND_FILTERS)}")
    if rule.session_persistence is not None:
        problems.extend(session_problems(rule.session_persistence, len(rule.backend_refs)))
    return problems


def session_problems(sp: SessionPersistence, backend_refs: int) -> list[str]:
    """What of a sessionPersistence Envoy's stateful session filter cannot do (GEP-1619 asks for
    a session kept across a rule's backends and for a Session cookie the gateway expires itself)."""
    problems: list[str] = []
    if backend_refs > 1:
        problems.append("sessionPersistence with more than one backendRef is not supported (Envoy keeps a "
                        "session on one backend's endpoints, not across weighted backends)")
    if sp.absolute_timeout is None:
        return problems
    if sp.type == "Header":
        problems.append("sessionPersistence.absoluteTimeout is not supported with type Header "
                        "(Envoy's header sessions never expire)")
    elif sp.lifetime_type == "Session":
        problems.append("sessionPersistence.absoluteTimeout is not supported with cookie.lifetimeType Session "
                        "(Envoy expires a session only through the cookie's Max-Age, which makes it Permanent)")
    elif sp.absolute_timeout_ms is None or sp.absolute_timeout_ms < 1000 or sp.absolute_timeout_ms % 1000:
        problems.append(f"sessionPersistence.absoluteTimeout {sp.absolute_timeout} is not supported: a cookie's "
                        "Max-Age counts whole seconds")
    return problems


def _retry(retry: RouteRetry) -> ir.Retry:
    return ir.Retry(retry.attempts if retry.attempts is not None else DEFAULT_RETRIES, retry.codes, retry.backoff_ms)


def session_cookie_name(route: HTTPRoute, rid: str) -> str:
    """The cookie of a rule whose sessionPersistence names none: one per rule, so that rules never
    share sessions (GEP-1619), and stable across restarts and edits of other rules."""
    digest = hashlib.sha256(f"{route.meta.namespace}/{route.meta.name}/{rid}".encode()).hexdigest()
    return f"meshgate-session-{digest[:16]}"


def _session(sp: SessionPersistence | None, route: HTTPRoute, rid: str) -> ir.StatefulSession | None:
    if sp is None:
        return None
    if sp.type == "Header":
        assert sp.name is not None  # required by the CRD
        return ir.StatefulSession("header", sp.name)
    ttl = sp.absolute_timeout_ms // 1000 if sp.lifetime_type == "Permanent" and sp.absolute_timeout_ms else None
    return ir.StatefulSession("cookie", sp.name or session_cookie_name(route, rid), sp.path, ttl)


def effective_filters(rule: RouteRule) -> list[RouteFilter]:
    """The rule's filters, plus RequestRedirect/URLRewrite of its only backendRef (see rule_problems)."""
    if len(rule.backend_refs) != 1:
        return list(rule.filters)
    return [*rule.filters, *(f for f in rule.backend_refs[0].filters if f.type in SOLE_BACKEND_FILTERS)]


def redirect_port(scheme: str | None, hostname: str | None, port: int | None, listener: ListenerContext) -> int | None:
    """The port_redirect Envoy needs for a Gateway API redirect, or None to leave it unset.

    The Location's port is the given one; else the new scheme's well-known port when the scheme
    changes; else the listener's. Envoy keeps the request's Host port unless told otherwise, drops
    it whenever host_redirect is set, and drops :80/:443 of the old scheme itself; so the port is
    spelled out only where those rules would not produce it.
    """
    new_scheme = scheme or listener.scheme
    if port is None:
        port = WELL_KNOWN_PORTS.get(scheme, listener.port) if scheme else listener.port
    default = WELL_KNOWN_PORTS.get(new_scheme)
    if hostname is not None:
        return None if port == default else port
    if port == listener.port:
        return None  # the client's Host already carries it (or omits the default)
    if port == default and listener.port == WELL_KNOWN_PORTS.get(listener.scheme):
        return None  # Envoy drops the old scheme's default port itself
    return port


def _path_value(value: str) -> str:
    # An empty replacement means "/", as the spec's examples show.
    return value or "/"


def _path_change(path: PathModifier | None, match: ir.RouteMatch) -> tuple[str | None, tuple[str, str] | None]:
    """(full path, (matched prefix, replacement)) of a path modifier; at most one is set."""
    if path is None:
        return None, None
    if path.type == "ReplaceFullPath":
        return _path_value(path.value), None
    return None, (match.path, _path_value(path.value))


def _redirect(f: RouteFilter, match: ir.RouteMatch, listener: ListenerContext) -> ir.Redirect:
    rr = f.request_redirect
    assert rr is not None
    full, prefix = _path_change(rr.path, match)
    port = redirect_port(rr.scheme, rr.hostname, rr.port, listener)
    return ir.Redirect(rr.status_code, rr.scheme, rr.hostname, port, full, prefix)


def _rewrite(f: RouteFilter, match: ir.RouteMatch) -> ir.Rewrite:
    uw = f.url_rewrite
    assert uw is not None
    full, prefix = _path_change(uw.path, match)
    return ir.Rewrite(uw.hostname, full, prefix)


def weighted_backends(refs: Sequence[BackendRef], backends: list[Resolution]) -> list[ir.WeightedBackend]:
    """A rule's backendRefs with weight (zero-weight ones left out), each with its header filters."""
    weighted: list[ir.WeightedBackend] = []
    for ref, res in zip(refs, backends):
        if ref.weight == 0:
            continue
        req = resp = None
        for f in ref.filters:
            if f.type == "RequestHeaderModifier":
                req = mutation(f.request_header_modifier)
            elif f.type == "ResponseHeaderModifier":
                resp = mutation(f.response_header_modifier)
        weighted.append(ir.WeightedBackend(res.cluster.name if res.cluster else None, ref.weight, req, resp))
    return weighted


def mirrors_of(filters: Sequence[RouteFilter], mirrors: list[Resolution]) -> tuple[ir.Mirror, ...]:
    """A rule's RequestMirror filters whose backend resolved."""
    return tuple(
        ir.Mirror(m.cluster.name, *(f.request_mirror.fraction or (100, 100)))
        for f, m in zip((f for f in filters if f.type == "RequestMirror"), mirrors)
        if m.cluster is not None and f.request_mirror is not None
    )


def translate_rule(
    route: HTTPRoute,
    rule: RouteRule,
    rule_index: int,
    backends: list[Resolution],
    mirrors: list[Resolution],
    listener: ListenerContext,
) -> list[ir.Route]:
    """One IR route per match of a rule (backends and mirrors resolved by the caller)."""
    rid = rule_id(rule, rule_index)
    source = HTTP_ROUTE.source(route, rid)
    invalid = bool(rule_problems(rule))

    effects = rule_effects(effective_filters(rule))
    request_headers, response_headers = effects.request_headers, effects.response_headers
    redirect_filter, rewrite_filter = effects.redirect, effects.rewrite

    weighted = weighted_backends(rule.backend_refs, backends)
    ir_mirrors = mirrors_of(rule.filters, mirrors)

    out: list[ir.Route] = []
    for mi, m in enumerate(rule.matches):
        match = _ir_match(m)
        name = f"{route.meta.namespace}/{route.meta.name}/rule/{rid}/match/{mi}"
        common: _RouteCommon = {"name": name, "match": match, "source": source, "response_headers": response_headers, "cors": effects.cors,
                               "rule_name": rule.name}
        if invalid:
            out.append(ir.Route(**common, direct_status=500))
        elif redirect_filter is not None:
            out.append(ir.Route(**common, redirect=_redirect(redirect_filter, match, listener),
                                request_headers=request_headers))
        elif not weighted or all(b.cluster is None for b in weighted):
            # No backends, all weights zero, or none resolved: the spec asks for a 500.
            out.append(ir.Route(**common, direct_status=500, request_headers=request_headers))
        else:
            out.append(ir.Route(
                **common,
                backends=tuple(weighted),
                request_headers=request_headers,
                rewrite=_rewrite(rewrite_filter, match) if rewrite_filter is not None else None,
                mirrors=ir_mirrors,
                timeout_ms=rule.request_timeout_ms,
                backend_timeout_ms=rule.backend_timeout_ms,
                retry=_retry(rule.retry) if rule.retry is not None else None,
                session=_session(rule.session_persistence, route, rid),
            ))
    return out


def http_ir_routes(route: HTTPRoute, res: RouteResolution, listener: ListenerContext) -> list[tuple[tuple, ir.Route]]:
    """(precedence key, IR route) for every match of every rule of an HTTPRoute."""
    entries: list[tuple[tuple, ir.Route]] = []
    for ri, rule in enumerate(route.rules):
        ir_routes = translate_rule(route, rule, ri, res.backends[ri], res.mirrors[ri], listener)
        entries.extend((precedence_key(route, ri, mi, m), r) for mi, (m, r) in enumerate(zip(rule.matches, ir_routes)))
    return entries


HTTP_ROUTE = RouteKind("HTTPRoute", 1, http_ir_routes, rule_problems, rule_id, hostname_rival="GRPCRoute",
                       mesh=True)
