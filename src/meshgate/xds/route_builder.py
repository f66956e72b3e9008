"""Route configurations from IR, each virtual host built once for as long as its IR holds.

A route change alters one virtual host of one hostname; every other virtual host of the
gateway has equal IR. The builder keys what it builds by that IR, keeps it across
translations, and so a change pays for the virtual hosts it touched and a dictionary lookup
for the rest. It keeps each virtual host serialized, not as a message, and spells route
configurations as bytes from those pieces (a RouteConfiguration is its name, then its virtual
hosts, then its other fields, each field a tag, a length and the bytes, in field-number
order): so the configuration that holds every virtual host costs a join and a hash, not
building and serializing thousands of messages again.

`sweep` forgets what the last pass did not ask for, so memory follows the current config.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from .http_filters import FilterWants
from .metadata import metadata
from .routes import HashPolicies, route
from .scopes import scope, scope_name, scoped_hosts
from .serialized import (
    ROUTE,
    SCOPED_ROUTE,
    Resource,
    assembled_resource,
    make_resource,
    part_digest,
    serialized_resource,
)

_FIELDS = route_pb2.RouteConfiguration.DESCRIPTOR.fields_by_name
_NAME, _HOSTS = _FIELDS["name"].number, _FIELDS["virtual_hosts"].number
# Every field set besides the name and the virtual hosts: all numbered after both.
_REST = route_pb2.RouteConfiguration(validate_clusters=wrappers_pb2.BoolValue(value=False),
                                     ignore_port_in_host_matching=True)
assert _NAME < _HOSTS < min(f.number for f, _ in _REST.ListFields())
_TAIL = _REST.SerializeToString(deterministic=True)
_TAIL_DIGEST = part_digest(_TAIL)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:  # at most 10 bytes for 64 bits
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, data: bytes) -> bytes:
    """One length-delimited field: tag, length, bytes."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def configuration_bytes(name: str, hosts: list[bytes]) -> bytes:
    """A RouteConfiguration as `SerializeToString(deterministic=True)` spells it, from its
    name and its virtual hosts' fields (`_field(2, serialized virtual host)` each). Clusters
    are not validated (invalid backends must answer 500, not fail the config); hosts match
    with any port, and the Host header still reaches the backend with its port."""
    return b"".join((_field(_NAME, name.encode()), *hosts, _TAIL))


_Scoped = tuple[Resource, Resource]  # a hostname's scope (SRDS) and its RouteConfiguration (RDS)


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
    """A built message, the virtual host it was built from (kept alive, see `_host_key`), the
    pass that last asked for it, and (for a virtual host's field) the digest of its bytes."""

    __slots__ = ("built", "digest", "pass_", "source")

    def __init__(self, source: ir.VirtualHost, built: Any, pass_: int, digest: bytes = b"") -> None:
        self.source = source
        self.built = built
        self.pass_ = pass_
        self.digest = digest


class RouteBuilder:
    """Builds RouteConfigurations as served resources (whole, and split per hostname for scoped
    routes), reusing the virtual hosts and per-hostname configurations whose IR did not change."""

    __slots__ = ("_hosts", "_owners", "_pass", "_scoped", "filter_wants")

    def __init__(self) -> None:
        self._hosts: dict[tuple, _Entry] = {}
        self._scoped: dict[tuple, _Entry] = {}
        self._owners: dict[tuple[ir.SourceRef, ...], base_pb2.Metadata | None] = {}
        self._pass = 0
        # What optional HTTP filters each virtual host wants (xds/http_filters.py), kept alike.
        self.filter_wants = FilterWants()

    def _owner(self, sources: tuple[ir.SourceRef, ...]) -> base_pb2.Metadata | None:
        # Virtual hosts of one listener share their Gateway's metadata: built once, copied.
        if sources not in self._owners:
            self._owners[sources] = metadata(sources)
        return self._owners[sources]

    def virtual_host(self, vh: ir.VirtualHost, hashing: HashPolicies | None = None) -> rc.VirtualHost:
        """One Envoy virtual host, built anew (for callers that want the message)."""
        out = rc.VirtualHost(name=vh.name, domains=list(vh.domains), routes=[route(r, hashing) for r in vh.routes])
        md = self._owner(vh.sources)
        if md is not None:
            out.metadata.CopyFrom(md)
        return out

    def _host_entry(self, vh: ir.VirtualHost, hashing: HashPolicies | None) -> _Entry:
        """A virtual host as a RouteConfiguration's `virtual_hosts` field (and its digest), kept
        while its IR holds."""
        key = _host_key(vh, hashing)
        entry = self._hosts.get(key)
        if entry is None:
            data = _field(_HOSTS, self.virtual_host(vh, hashing).SerializeToString(deterministic=True))
            entry = self._hosts[key] = _Entry(vh, data, self._pass, part_digest(data))
        entry.pass_ = self._pass
        return entry

    def _host_field(self, vh: ir.VirtualHost, hashing: HashPolicies | None) -> bytes:
        """A virtual host as a RouteConfiguration's `virtual_hosts` field, kept while its IR holds."""
        return self._host_entry(vh, hashing).built

    def route_configuration(self, cfg: ir.RouteConfig, hashing: HashPolicies | None = None) -> Resource:
        """An RDS RouteConfiguration, serialized (versioned by its parts' digests: the virtual
        hosts' are kept with them)."""
        entries = [self._host_entry(vh, hashing) for vh in cfg.virtual_hosts]
        head = _field(_NAME, cfg.name.encode())
        return assembled_resource(ROUTE, cfg.name, b"".join((head, *(e.built for e in entries), _TAIL)),
                                  [part_digest(head), *(e.digest for e in entries), _TAIL_DIGEST])

    def scoped(self, cfg: ir.RouteConfig, hashing: HashPolicies | None = None) -> list[_Scoped]:
        """`cfg` as one scope and RouteConfiguration per exact hostname with routes (xds/scopes.py),
        each RouteConfiguration as `route_configuration` spells it with that host alone."""
        out = []
        for vh in scoped_hosts(cfg):
            key = (cfg.name, _host_key(vh, hashing))
            entry = self._scoped.get(key)
            if entry is None:
                (host,) = vh.domains
                name = scope_name(cfg.name, host)
                built = (make_resource(SCOPED_ROUTE, name, scope(cfg.name, host)),
                         serialized_resource(ROUTE, name, configuration_bytes(name, [self._host_field(vh, hashing)])))
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
        self.filter_wants.sweep()
        self._pass += 1
