"""Route configurations from IR, each virtual host built once for as long as its IR holds.

A route change alters one virtual host of one hostname; every other virtual host of the
gateway has equal IR. The builder keys what it builds by that IR (a value, so a result can
never be stale: different IR is a different key), keeps it across translations, and so a
change pays for the virtual hosts it touched and a dictionary lookup for the rest. The
messages it returns are shared and must not be changed by the caller; equal messages are the
same object, which is what lets `Serializer` (xds/resources.py) skip serializing them again.

`sweep` forgets what the last pass did not ask for, so memory follows the current config.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2, scoped_route_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from .metadata import metadata
from .routes import HashPolicies, route
from .scopes import scope, scope_name, scoped_hosts

_Scoped = tuple[scoped_route_pb2.ScopedRouteConfiguration, route_pb2.RouteConfiguration]


def _hashing_key(vh: ir.VirtualHost, hashing: HashPolicies) -> Hashable:
    """What of `hashing` a virtual host's routes use (usually nothing), as a hashable key."""
    if not hashing:
        return ()
    used = {b.cluster for r in vh.routes for b in r.backends if b.cluster in hashing}
    return tuple((c, tuple(h.SerializeToString(deterministic=True) for h in hashing[c])) for c in sorted(used))


def _host_key(vh: ir.VirtualHost, hashing: HashPolicies | None) -> tuple:
    """A virtual host's key: its routes by identity (hashing every route's IR again would cost
    most of what it saves). Sound because each entry keeps its virtual host, and so its routes,
    alive: an id in a live entry cannot belong to another object. The route table hands out
    the same route objects for as long as a route is unchanged (gateway/rules.py)."""
    return (vh.name, vh.domains, vh.sources, tuple(map(id, vh.routes)), _hashing_key(vh, hashing or {}))


class _Entry:
    """A built message, the virtual host it was built from (kept alive, see `_host_key`), and
    the pass that last asked for it."""

    __slots__ = ("built", "pass_", "source")

    def __init__(self, source: ir.VirtualHost, built: Any, pass_: int) -> None:
        self.source = source
        self.built = built
        self.pass_ = pass_


class RouteBuilder:
    """Builds RouteConfigurations (whole, and split per hostname for scoped routes), reusing the
    virtual hosts and per-hostname configurations whose IR did not change."""

    __slots__ = ("_hosts", "_owners", "_pass", "_scoped")

    def __init__(self) -> None:
        self._hosts: dict[tuple, _Entry] = {}
        self._scoped: dict[tuple, _Entry] = {}
        self._owners: dict[tuple[ir.SourceRef, ...], base_pb2.Metadata | None] = {}
        self._pass = 0

    def _owner(self, sources: tuple[ir.SourceRef, ...]) -> base_pb2.Metadata | None:
        # Virtual hosts of one listener share their Gateway's metadata: built once, copied.
        if sources not in self._owners:
            self._owners[sources] = metadata(sources)
        return self._owners[sources]

    def virtual_host(self, vh: ir.VirtualHost, hashing: HashPolicies | None = None) -> rc.VirtualHost:
        """One Envoy virtual host (shared: do not change it)."""
        key = _host_key(vh, hashing)
        entry = self._hosts.get(key)
        if entry is None:
            out = rc.VirtualHost(name=vh.name, domains=list(vh.domains),
                                 routes=[route(r, hashing) for r in vh.routes])
            md = self._owner(vh.sources)
            if md is not None:
                out.metadata.CopyFrom(md)
            entry = self._hosts[key] = _Entry(vh, out, self._pass)
        entry.pass_ = self._pass
        return entry.built

    def route_configuration(self, cfg: ir.RouteConfig, hashing: HashPolicies | None = None
                            ) -> route_pb2.RouteConfiguration:
        """An RDS RouteConfiguration.

        Clusters are not validated (invalid backends must answer 500, not fail the config);
        hosts match with any port, and the Host header still reaches the backend with its port.
        """
        return _configuration(cfg.name, [self.virtual_host(vh, hashing) for vh in cfg.virtual_hosts])

    def scoped(self, cfg: ir.RouteConfig, hashing: HashPolicies | None = None) -> list[_Scoped]:
        """`cfg` as one scope and RouteConfiguration per exact hostname with routes (xds/scopes.py),
        each RouteConfiguration as `route_configuration` spells it with that host alone."""
        out = []
        for vh in scoped_hosts(cfg):
            key = (cfg.name, _host_key(vh, hashing))
            entry = self._scoped.get(key)
            if entry is None:
                (host,) = vh.domains
                built = (scope(cfg.name, host),
                         _configuration(scope_name(cfg.name, host), [self.virtual_host(vh, hashing)]))
                entry = self._scoped[key] = _Entry(vh, built, self._pass)
            entry.pass_ = self._pass
            out.append(entry.built)
        return out

    def sweep(self) -> None:
        """Forget what was not asked for since the last sweep."""
        for table in (self._hosts, self._scoped):
            for key in [k for k, e in table.items() if e.pass_ != self._pass]:
                del table[key]
        live = {e.source.sources for e in self._hosts.values()}
        for sources in [s for s in self._owners if s not in live]:
            del self._owners[sources]
        self._pass += 1


def _configuration(name: str, hosts: list[rc.VirtualHost]) -> route_pb2.RouteConfiguration:
    return route_pb2.RouteConfiguration(name=name, virtual_hosts=hosts,
                                        validate_clusters=wrappers_pb2.BoolValue(value=False),
                                        ignore_port_in_host_matching=True)
