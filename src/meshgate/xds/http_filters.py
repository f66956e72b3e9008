"""The optional HTTP filters of a gateway's connection managers, one entry each: the filter as
the connection manager carries it (doing nothing by itself) and what a route gives it to do
(its typed_per_filter_config). A connection manager carries a filter only when a route it serves
needs it, so that a gateway without such routes pays nothing. A new route-level feature backed by
an Envoy HTTP filter is one entry here. A filter whose connection-manager entry depends on its
routes (the JWT providers they name, one ext_authz filter per service) makes its entries from
them (`entries`), and may give a route configs for several entries (`named`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from envoy.extensions.filters.http.buffer.v3 import buffer_pb2
from envoy.extensions.filters.http.cors.v3 import cors_pb2
from envoy.extensions.filters.http.csrf.v3 import csrf_pb2
from envoy.extensions.filters.http.fault.v3 import fault_pb2
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2 as lrl
from envoy.extensions.filters.http.stateful_session.v3 import stateful_session_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.type.matcher.v3 import string_pb2
from envoy.type.v3 import percent_pb2
from google.protobuf import wrappers_pb2
from google.protobuf.message import Message

from .. import ir
from ..naming import XDS_CLUSTER
from ..ratelimit.filter import FILTER_NAME as RATE_LIMIT_FILTER
from ..ratelimit.filter import rate_limit_filter
from .common import duration_ms, to_any
from .compression import LIBRARIES, compression_of, compressor_entries, compressor_per_route
from .custom_responses import CUSTOM_RESPONSE_ENTRY, CUSTOM_RESPONSE_FILTER, custom_response
from .rate_limits import LOCAL_RATE_LIMIT_FILTER, global_rate_limit, local_rate_limit
from .route_filters import cors_policy, stateful_session
from .security.api_key import API_KEY_FILTER, api_key_entries, api_key_per_route
from .security.basic_auth import BASIC_AUTH_FILTER, basic_auth_entries, basic_auth_per_route
from .security.custom import (
    CUSTOM_EXT_AUTHZ_FILTER,
    CUSTOM_RBAC_ENTRY,
    CUSTOM_RBAC_FILTER,
    custom_ext_authz_entries,
    custom_ext_authz_per_route,
    custom_rbac_per_route,
)
from .security.ext_authz import EXT_AUTHZ_FILTER, ext_authz_entries, ext_authz_per_route
from .security.jwt import JWT_FILTER, jwt_entries, jwt_per_route
from .security.rbac import RBAC_ENTRY, RBAC_FILTER, rbac_per_route


@dataclass(frozen=True, slots=True)
class OptionalFilter:
    """An HTTP filter routes turn on: its connection-manager entry, and its per-route config
    for a route (None: the route does not need it)."""

    name: str
    filter: hcm.HttpFilter | None  # None: made from the routes by `entries`
    wants: Callable[[ir.Route], bool]
    per_route: Callable[[ir.Route], Message] | None
    # The connection manager's entries, from the routes that want the filter (in their order).
    entries: Callable[[Sequence[ir.Route]], list[hcm.HttpFilter]] | None = None
    # A route's configs by filter name, for a filter with several entries (instead of per_route).
    named: Callable[[ir.Route], list[tuple[str, Message]]] | None = None

    def connection_entries(self, routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
        """What the connection manager carries for `routes` (those wanting the filter)."""
        if self.entries is not None:
            return self.entries(routes)
        assert self.filter is not None
        return [self.filter]

    def route_configs(self, r: ir.Route) -> list[tuple[str, Message]]:
        """The typed_per_filter_config entries of a route wanting the filter."""
        if self.named is not None:
            return self.named(r)
        assert self.per_route is not None
        return [(self.name, self.per_route(r))]


def _percent(p: float) -> percent_pb2.FractionalPercent:
    return percent_pb2.FractionalPercent(numerator=round(p * 10_000), denominator=percent_pb2.FractionalPercent.MILLION)


def fault(f: ir.FaultInjection) -> fault_pb2.HTTPFault:
    """A route's fault injection for Envoy's fault filter."""
    out = fault_pb2.HTTPFault()
    if f.delay_ms is not None:
        out.delay.fixed_delay.CopyFrom(duration_ms(f.delay_ms))
        out.delay.percentage.CopyFrom(_percent(f.delay_percent))
    if f.abort_status is not None:
        out.abort.http_status = f.abort_status
        out.abort.percentage.CopyFrom(_percent(f.abort_percent))
    elif f.abort_grpc_status is not None:
        out.abort.grpc_status = f.abort_grpc_status
        out.abort.percentage.CopyFrom(_percent(f.abort_percent))
    return out


def _forwarding(r: ir.Route) -> bool:
    return r.redirect is None and r.direct_status is None


def _security(r: ir.Route, what: str) -> bool:
    return r.security is not None and getattr(r.security, what) is not None


BUFFER_FILTER = "envoy.filters.http.buffer"
CSRF_FILTER = "envoy.filters.http.csrf"


def csrf_policy(c: ir.Csrf) -> csrf_pb2.CsrfPolicy:
    """A route's CSRF policy: enforced, or (shadow) counted on a share of requests only."""
    out = csrf_pb2.CsrfPolicy(additional_origins=[string_pb2.StringMatcher(exact=o) for o in c.origins])
    out.filter_enabled.default_value.CopyFrom(_percent(0.0 if c.shadow_percent is not None else 100.0))
    if c.shadow_percent is not None:
        out.shadow_enabled.default_value.CopyFrom(_percent(c.shadow_percent))
    return out


def _compressor(algorithm: str) -> OptionalFilter:
    """Response compression with one algorithm (xds/compression.py)."""
    return OptionalFilter(LIBRARIES[algorithm][0], None, lambda r: compression_of(r, algorithm) is not None,
                          lambda r: compressor_per_route(r, algorithm),
                          entries=lambda routes: compressor_entries(algorithm, routes))


# In the order they run (before the router), as Envoy Gateway orders them (httpfilters.go): faults,
# CORS, CSRF, external authorization, API keys, basic auth, JWT, (Istio's CUSTOM: shadow RBAC and ext_authz),
# stateful sessions, RBAC, rate limits, request buffering, custom responses, compression.
OPTIONAL_FILTERS: tuple[OptionalFilter, ...] = (
    OptionalFilter("envoy.filters.http.fault", hcm.HttpFilter(
        name="envoy.filters.http.fault", typed_config=to_any(fault_pb2.HTTPFault())),
        lambda r: r.fault is not None, lambda r: fault(r.fault)),  # type: ignore[arg-type]
    OptionalFilter("envoy.filters.http.cors", hcm.HttpFilter(
        name="envoy.filters.http.cors", typed_config=to_any(cors_pb2.Cors())),
        lambda r: r.cors is not None, lambda r: cors_policy(r.cors)),  # type: ignore[arg-type]
    # After CORS (its preflights are answered before): refuse cross-site state changes.
    OptionalFilter(CSRF_FILTER, hcm.HttpFilter(name=CSRF_FILTER, disabled=True, typed_config=to_any(
        csrf_policy(ir.Csrf()))), lambda r: r.csrf is not None,
        lambda r: csrf_policy(r.csrf)),  # type: ignore[arg-type]
    OptionalFilter(EXT_AUTHZ_FILTER, None, lambda r: _security(r, "ext_auth"), None,
                   entries=ext_authz_entries, named=ext_authz_per_route),
    OptionalFilter(API_KEY_FILTER, None, lambda r: _security(r, "api_key"), api_key_per_route,  # type: ignore[arg-type]
                   entries=api_key_entries),
    OptionalFilter(BASIC_AUTH_FILTER, None, lambda r: _security(r, "basic_auth"), None,
                   entries=basic_auth_entries, named=basic_auth_per_route),
    OptionalFilter(JWT_FILTER, None, lambda r: _security(r, "jwt"), jwt_per_route, entries=jwt_entries),
    # Istio's CUSTOM action: its rules in a shadow RBAC filter, whose verdict enables the
    # provider's ext_authz filter (xds/security/custom.py); after JWT, before the RBAC filter.
    OptionalFilter(CUSTOM_RBAC_FILTER, CUSTOM_RBAC_ENTRY, lambda r: _security(r, "custom"),
                   lambda r: custom_rbac_per_route(r.security.custom)),  # type: ignore[union-attr, arg-type]
    OptionalFilter(CUSTOM_EXT_AUTHZ_FILTER, None, lambda r: _security(r, "custom"), None,
                   entries=custom_ext_authz_entries, named=custom_ext_authz_per_route),
    OptionalFilter("envoy.filters.http.stateful_session", hcm.HttpFilter(
        name="envoy.filters.http.stateful_session", typed_config=to_any(stateful_session_pb2.StatefulSession())),
        lambda r: r.session is not None and _forwarding(r),
        lambda r: stateful_session(r.session)),  # type: ignore[arg-type]
    OptionalFilter(RBAC_FILTER, RBAC_ENTRY, lambda r: _security(r, "authorization"),
                   lambda r: rbac_per_route(r.security.authorization)),  # type: ignore[union-attr, arg-type]
    OptionalFilter(LOCAL_RATE_LIMIT_FILTER, hcm.HttpFilter(
        name=LOCAL_RATE_LIMIT_FILTER, typed_config=to_any(lrl.LocalRateLimit(stat_prefix="http_local_rate_limit"))),
        lambda r: r.rate_limit is not None and r.rate_limit.scope == "Local",
        lambda r: local_rate_limit(r.rate_limit)),  # type: ignore[arg-type]
    # The domain here is a placeholder: each route's config names its Gateway's.
    OptionalFilter(RATE_LIMIT_FILTER, rate_limit_filter("meshgate", XDS_CLUSTER),
                   lambda r: r.rate_limit is not None and r.rate_limit.scope == "Global",
                   lambda r: global_rate_limit(r.rate_limit)),  # type: ignore[arg-type]
    # The whole request before the router (a BackendTrafficPolicy's requestBuffer): 413 beyond the
    # route's limit. The connection manager's entry is disabled; a route's config turns it on.
    OptionalFilter(BUFFER_FILTER, hcm.HttpFilter(name=BUFFER_FILTER, disabled=True, typed_config=to_any(
        buffer_pb2.Buffer(max_request_bytes=wrappers_pb2.UInt32Value(value=1)))),
        lambda r: r.request_buffer_bytes is not None,
        lambda r: buffer_pb2.BufferPerRoute(buffer=buffer_pb2.Buffer(
            max_request_bytes=wrappers_pb2.UInt32Value(value=r.request_buffer_bytes)))),
    # Responses replaced by status (a BackendTrafficPolicy's responseOverride), each route its rules.
    OptionalFilter(CUSTOM_RESPONSE_FILTER, CUSTOM_RESPONSE_ENTRY, lambda r: bool(r.response_overrides),
                   lambda r: custom_response(r.response_overrides)),
    # Response compression last, next to the router: it compresses what the backend sent.
    *(_compressor(algorithm) for algorithm in LIBRARIES),
)
FILTERS_BY_NAME = {f.name: f for f in OPTIONAL_FILTERS}


def per_route_configs(r: ir.Route) -> list[tuple[str, Message]]:
    """The optional filters `r` needs and their config for it, by filter name."""
    return [entry for f in OPTIONAL_FILTERS if f.wants(r) for entry in f.route_configs(r)]


def http_filters_needed(cfg: ir.RouteConfig) -> frozenset[str]:
    """The optional HTTP filters the connection managers serving a route configuration need."""
    needed: set[str] = set()
    for vh in cfg.virtual_hosts:
        for r in vh.routes:
            if _plain(r):
                continue  # the common case, without building any config
            needed.update(f.name for f in OPTIONAL_FILTERS if f.wants(r))
    return frozenset(needed)


def _plain(r: ir.Route) -> bool:
    return (r.cors is None and r.csrf is None and r.session is None and r.fault is None and r.rate_limit is None and r.security is None
            and not r.compression and r.request_buffer_bytes is None and not r.response_overrides)


def _wanting(routes: Sequence[ir.Route]) -> tuple[tuple[str, tuple[ir.Route, ...]], ...]:
    """(filter name, the routes of `routes` wanting it) for each optional filter some want."""
    wanting: dict[str, list[ir.Route]] = {}
    for r in routes:
        if _plain(r):
            continue
        for f in OPTIONAL_FILTERS:
            if f.wants(r):
                wanting.setdefault(f.name, []).append(r)
    return tuple((name, tuple(rs)) for name, rs in wanting.items())


class FilterWants:
    """What optional filters each virtual host's routes want, kept across translations while
    the virtual host is the same object (the route table hands out the same one while its
    routes are; each entry keeps its virtual host alive, so its id cannot be another's)."""

    __slots__ = ("_hosts", "_next")

    def __init__(self) -> None:
        self._hosts: dict[int, tuple[ir.VirtualHost, tuple[tuple[str, tuple[ir.Route, ...]], ...]]] = {}
        self._next: dict[int, tuple[ir.VirtualHost, tuple[tuple[str, tuple[ir.Route, ...]], ...]]] = {}

    def of(self, vh: ir.VirtualHost) -> tuple[tuple[str, tuple[ir.Route, ...]], ...]:
        """(filter name, the routes wanting it) for `vh`'s routes."""
        entry = self._hosts.get(id(vh))
        if entry is None or entry[0] is not vh:
            entry = self._next.get(id(vh))
            if entry is None or entry[0] is not vh:
                entry = (vh, _wanting(vh.routes))
        self._next[id(vh)] = entry
        return entry[1]

    def sweep(self) -> None:
        """Keep what was asked for since the last sweep, forget the rest."""
        self._hosts, self._next = self._next, {}


def http_filter_entries(cfg: ir.RouteConfig, wants: FilterWants | None = None) -> tuple[hcm.HttpFilter, ...]:
    """The optional HTTP filter entries of the connection managers serving a route
    configuration, in the order they run (before the router). `wants`: what virtual hosts
    wanted before, reused while they are the same objects."""
    wanting: dict[str, list[ir.Route]] = {}
    for vh in cfg.virtual_hosts:
        for name, routes in (wants.of(vh) if wants is not None else _wanting(vh.routes)):
            wanting.setdefault(name, []).extend(routes)
    if not wanting:
        return ()
    return tuple(e for f in OPTIONAL_FILTERS if f.name in wanting for e in f.connection_entries(wanting[f.name]))
