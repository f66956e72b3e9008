"""Assembling a gateway's listeners, filter chains and virtual hosts from attached routes.

All plain-HTTP Gateway listeners on a port share one Envoy listener and one route
configuration; each HTTPS Gateway listener gets a filter chain (matched by SNI) with its own
route configuration. A hostname's routes come only from the most specific listener that
accepts it, which is what keeps listeners isolated from each other.

On an HTTPS chain, a request whose Host belongs to another listener of the port than the one its
SNI chose is misdirected (a client reusing a connection, GEP-3567): it gets 421, so that the
client retries on a connection of its own; a Host the chosen listener owns but no route serves
gets 404.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import ir
from ..naming import http_route_config_name, https_route_config_name, listener_name
from ..resources.meta import metadata_annotations
from .backends import RouteObject
from .hostnames import matches, specificity
from .listeners import ListenerState
from .route_kind import ListenerContext
from .stream_listeners import STREAM_PROTOCOLS, Resolve, stream_listener
from .virtual_host_memo import VirtualHostMemo

# (route, listener context) → (precedence key, IR route) for every match of every rule.
RoutesFor = Callable[[RouteObject, ListenerContext], list[tuple[tuple, ir.Route]]]


def _listener_source(ls: ListenerState) -> ir.SourceRef:
    """The Gateway (or the ListenerSet) whose listener it is."""
    owner = ls.owner if ls.owner is not None else ls.gateway
    return ir.SourceRef(owner.kind, "gateway.networking.k8s.io/v1", owner.meta.namespace, owner.meta.name, ls.name,
                        metadata_annotations(owner.meta.annotations))


MISDIRECTED = 421


def _virtual_hosts(listeners: list[ListenerState], routes_for: RoutesFor, scheme: str, made: VirtualHostMemo,
                   only: ListenerState | None = None) -> list[ir.VirtualHost]:
    """Virtual hosts for listeners that share a route configuration; with `only`, the hosts of
    that one listener of `listeners` (which decide who owns a hostname). `made`: the virtual
    hosts of earlier translations, handed out again where nothing changed."""
    hosts: dict[str, list[tuple[tuple, ir.Route]]] = {}
    owner: dict[str, ListenerState] = {}
    by_specificity = sorted(listeners, key=lambda ls: specificity(ls.listener.hostname))
    best_for: dict[str, ListenerState | None] = {}  # hostname → the most specific listener accepting it
    serving = listeners if only is None else [only]
    for ls in serving:
        own = ls.listener.hostname or "*"
        hosts.setdefault(own, [])
        owner.setdefault(own, ls)
    for ls in serving:
        ctx = ListenerContext(ls.listener.port, scheme)
        for route, hostnames in ls.attached:
            entries = None
            for h in hostnames:
                if h not in best_for:
                    best_for[h] = next((c for c in by_specificity if matches(c.listener.hostname, h)), None)
                if best_for[h] is not ls:
                    continue  # a more specific listener owns this hostname
                if entries is None:
                    entries = routes_for(route, ctx)
                hosts.setdefault(h, []).extend(entries)
                owner.setdefault(h, ls)
    out: list[ir.VirtualHost] = []
    sources: dict[int, tuple[ir.SourceRef, ...]] = {}  # id(listener) → its source, made once
    for h in sorted(hosts, key=_host_order):
        entries = hosts[h]
        entries.sort(key=_precedence)
        ls = owner[h]
        source = sources.get(id(ls))
        if source is None:
            source = sources[id(ls)] = made.sources((_listener_source(ls),))
        out.append(made.host(f"{ls.key}/{h}", (h,), tuple(r for _, r in entries), source))
    if only is not None:
        out.extend(_misdirected_hosts(only, [ls for ls in listeners if ls is not only], set(hosts)))
    return out


def _misdirected_hosts(chosen: ListenerState, others: list[ListenerState], taken: set[str]) -> list[ir.VirtualHost]:
    """421 for the hostnames of the port's other listeners, and for any Host at all when the
    chosen listener has a hostname (what it does not own, another listener or nobody does)."""
    names = sorted({ls.listener.hostname for ls in others if ls.listener.hostname} - taken, key=_host_order)
    if chosen.listener.hostname and "*" not in taken:
        names.append("*")
    source = (_listener_source(chosen),)
    return [ir.VirtualHost(f"{chosen.key}/misdirected/{h}", (h,), (
        ir.Route(f"{chosen.key}/misdirected/{h}", ir.RouteMatch("prefix", "/"), source=source[0],
                 direct_status=MISDIRECTED),), source) for h in names]


def _precedence(entry: tuple[tuple, ir.Route]) -> tuple:
    return entry[0]


def _host_order(h: str) -> tuple:
    # Stable, readable order: exact names, then wildcards, then the catch-all.
    return (h == "*", h.startswith("*."), h)


def build_listeners(
    listeners: list[ListenerState], address: str, routes_for: RoutesFor, resolve: Resolve,
    hosts: VirtualHostMemo | None = None,
) -> tuple[list[ir.Listener], list[ir.RouteConfig]]:
    """Envoy listeners and route configurations for a gateway's programmed listeners (TLS, TCP
    and UDP ones by gateway/stream_listeners.py, from the routes' resolutions `resolve` gives).
    `hosts`: virtual hosts kept across translations (the route table's), reused where unchanged."""
    made = hosts if hosts is not None else VirtualHostMemo()
    by_port: dict[tuple[int, bool], list[ListenerState]] = {}  # (port, UDP?): TCP and UDP may share a port
    for ls in listeners:
        if ls.programmed:
            by_port.setdefault((ls.listener.port, ls.listener.protocol == "UDP"), []).append(ls)
    out_listeners: list[ir.Listener] = []
    configs: list[ir.RouteConfig] = []
    for port, _ in sorted(by_port):
        group = by_port[(port, _)]
        protocol = group[0].listener.protocol
        chains: tuple[ir.FilterChain, ...]
        if protocol in STREAM_PROTOCOLS:
            stream = stream_listener(group, address, port, resolve, _listener_source)
            if stream is not None:
                out_listeners.append(stream)
            continue
        if protocol == "HTTP":
            rc = http_route_config_name(port)
            configs.append(ir.RouteConfig(rc, tuple(_virtual_hosts(group, routes_for, "http", made))))
            chains = (ir.FilterChain("http", rc, sources=tuple(_listener_source(ls) for ls in group)),)
        else:
            chain_list = []
            for ls in sorted(group, key=lambda x: specificity(x.listener.hostname)):
                rc = https_route_config_name(port, ls.key)
                configs.append(ir.RouteConfig(rc, tuple(_virtual_hosts(group, routes_for, "https", made, only=ls))))
                server_names = (ls.listener.hostname,) if ls.listener.hostname else ()
                chain_list.append(ir.FilterChain(ls.key, rc, server_names, tuple(s.name for s in ls.secrets),
                                                 (_listener_source(ls),), client_validation=ls.client_validation))
            chains = tuple(chain_list)
        out_listeners.append(ir.Listener(listener_name(address, port), address, port, protocol, chains))
    return out_listeners, configs
