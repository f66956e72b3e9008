"""TLS, TCP and UDP listeners: connections (or datagrams) forwarded whole to a route's backends.

- TCP: the port's one listener serves its oldest attached TCPRoute (the spec lets a listener
  count several, and serve one).
- TLS: a filter chain per attached TLSRoute, matched on the SNI hostnames the route shares with
  its listener (a hostname goes to the oldest route claiming it); Passthrough forwards the TLS
  bytes, Terminate ends TLS with the listener's certificates and forwards the plaintext.
- UDP: the port's one listener sends every datagram to its oldest attached UDPRoute.

A route's backends are weighted as in its rules (every rule's backendRefs together: a stream
rule has no matches to tell them apart); an unresolved one keeps its share, and connections
that land there are closed. Envoy's UDP proxy sends to one cluster: a UDPRoute sends to a
cluster made of its resolved backends' endpoints, weighted so that each backend gets its share
(ir.WeightedCluster), even with one Service backend (so that moving it is a cluster update);
its unresolved backends get none (a datagram cannot be refused as a connection is closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import ir
from ..naming import listener_name, weighted_cluster_name
from .backends import RouteObject, RouteResolution
from .hostnames import specificity
from .listeners import ListenerState
from .route_kinds import route_kind

Resolve = Callable[[RouteObject], RouteResolution]
STREAM_PROTOCOLS = ("TLS", "TCP", "UDP")


def _backends(route: RouteObject, res: RouteResolution) -> tuple[ir.WeightedBackend, ...]:
    out: list[ir.WeightedBackend] = []
    rules: Sequence[Any] = route.rules
    for rule, resolved in zip(rules, res.backends):
        for ref, r in zip(rule.backend_refs, resolved):
            if ref.weight > 0:
                out.append(ir.WeightedBackend(r.cluster.name if r.cluster else None, ref.weight))
    return tuple(out)


def _source(route: RouteObject) -> ir.SourceRef:
    return route_kind(route.kind).source(route, "")


def _chain(name: str, route: RouteObject, res: RouteResolution, listener_source: ir.SourceRef,
           server_names: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> ir.FilterChain:
    return ir.FilterChain(name, "", server_names, secrets, (listener_source, _source(route)),
                          tcp_backends=_backends(route, res))


def _udp_chain(name: str, route: RouteObject, res: RouteResolution, listener_source: ir.SourceRef) -> ir.FilterChain:
    """A UDPRoute's chain: its one resolved backend's cluster, or the cluster its resolved
    backends make together (several refs to one cluster count as one, their weights added)."""
    refs: dict[str, ir.ClusterRef] = {}
    weights: dict[str, int] = {}
    rules: Sequence[Any] = route.rules
    for rule, resolved in zip(rules, res.backends):
        for ref, r in zip(rule.backend_refs, resolved):
            if ref.weight > 0 and r.cluster is not None:
                refs[r.cluster.name] = r.cluster
                weights[r.cluster.name] = weights.get(r.cluster.name, 0) + ref.weight
    # One Service backend goes through the route's cluster too: the listener then names a cluster
    # that stays when the route moves to other backends (a cluster update, not a listener update,
    # which would drop the datagrams that reach the listener being replaced). A lone ServiceEntry
    # backend keeps its own cluster: a DNS one has no addresses to join.
    if not refs or (len(refs) == 1 and next(iter(refs.values())).service_kind != "Service"):
        return _chain(name, route, res, listener_source)
    source = _source(route)
    weighted = ir.WeightedCluster(weighted_cluster_name(route.kind, route.meta.namespace, route.meta.name),
                                  tuple((refs[c], weights[c]) for c in refs), source)
    return ir.FilterChain(name, "", sources=(listener_source, source),
                          tcp_backends=(ir.WeightedBackend(weighted.name, 1),), weighted=weighted)


def stream_listener(group: list[ListenerState], address: str, port: int, resolve: Resolve,
                    listener_source: Callable[[ListenerState], ir.SourceRef]) -> ir.Listener | None:
    """The Envoy listener of a port's programmed TLS, TCP or UDP Gateway listeners; None when
    no route is attached (nothing to forward to)."""
    protocol = group[0].listener.protocol
    chains: list[ir.FilterChain] = []
    if protocol in ("TCP", "UDP"):
        ls = group[0]
        if ls.attached:
            route = ls.attached[0][0]  # attached in route order: the oldest first
            make = _udp_chain if protocol == "UDP" else _chain
            chains.append(make(f"{ls.key}/{route.meta.namespace}/{route.meta.name}", route, resolve(route),
                               listener_source(ls)))
    else:
        claimed: set[str] = set()
        for ls in sorted(group, key=lambda x: specificity(x.listener.hostname)):
            secrets = tuple(s.name for s in ls.secrets) if ls.listener.tls_mode == "Terminate" else ()
            for route, hostnames in ls.attached:
                names = tuple(h for h in hostnames if h not in claimed)
                if not names:
                    continue
                claimed.update(names)
                chains.append(_chain(f"{ls.key}/{route.meta.namespace}/{route.meta.name}", route, resolve(route),
                                     listener_source(ls), tuple(h for h in names if h != "*"), secrets))
    if not chains:
        return None
    name = listener_name(address, port) + ("_udp" if protocol == "UDP" else "")
    return ir.Listener(name, address, port, protocol, tuple(chains))
