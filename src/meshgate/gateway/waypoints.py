"""Waypoint Gateways: the listeners, filter chains and routes of a waypoint proxy.

Per captured service and port, a filter chain matched on the service's VIPs and port: HTTP
ports get the HTTPRoutes attached to the service (parentRef to the Service, the ServiceEntry or
one of its hosts) or, when none is, a default route `/` to the service itself; other ports a
TCP proxy to the service. Connections arrive two ways: on port 15088 with a PROXY protocol
header naming the original destination (as ztunnel hands them over), and directly on each VIP
and port (standalone, where no ztunnel exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir
from ..discovery.model import ServiceModel
from ..resources.gateway_api import Gateway, HTTPRoute, ParentRef
from ..resources.meta import metadata_annotations
from .backends import ISTIO_GROUP, RouteResolution, service_cluster
from .conditions import Condition
from .route_table import RouteTable
from .rules import ListenerContext

PROXY_PROTOCOL_PORT = 15088
_TCP_APP_PROTOCOLS = {"tcp", "tls", "https", "mongo", "redis", "mysql"}


@dataclass(frozen=True, slots=True)
class CapturedService:
    """A service a waypoint captures, as the waypoint serves it."""

    kind: str  # Service or ServiceEntry
    model: ServiceModel


def service_source(kind: str, model: ServiceModel) -> ir.SourceRef:
    """The Service or ServiceEntry a piece of config comes from."""
    return ir.SourceRef(kind, "v1" if kind == "Service" else "networking.istio.io/v1", model.namespace, model.name,
                        annotations=model.annotations)


def _is_http(model: ServiceModel, port_number: int) -> bool:
    """Whether a waypoint serves this port as HTTP (else as TCP): the appProtocol, else (Istio's
    convention) the port name's prefix, e.g. `tcp-db`; HTTP by default."""
    port = model.port(port_number)
    if port is None or port.protocol != "TCP":
        return False
    app = (port.app_protocol or "").lower()
    if app:
        return app not in _TCP_APP_PROTOCOLS
    return port.name.lower().split("-", 1)[0] not in _TCP_APP_PROTOCOLS


def _targets(ref: ParentRef, route_ns: str, svc: CapturedService) -> bool:
    """Whether a route's parentRef names this service (GAMMA: Service, ServiceEntry, Hostname)."""
    model = svc.model
    ns = ref.namespace or route_ns
    if ref.group == "" and ref.kind == "Service":
        return svc.kind == "Service" and (ns, ref.name) == (model.namespace, model.name)
    if ref.group == ISTIO_GROUP and ref.kind == "ServiceEntry":
        return svc.kind == "ServiceEntry" and (ns, ref.name) == (model.namespace, model.name)
    if ref.group == ISTIO_GROUP and ref.kind == "Hostname":
        return ref.name in model.hosts
    return False


@dataclass(slots=True)
class RouteParents:
    """Routes attached to captured services: each route's conditions, built once, and the
    parentRefs that attached it, in the order first seen."""

    conditions: dict[tuple[str, str], list[Condition]] = field(default_factory=dict)
    refs: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # route → repr(ref) → ref

    def add(self, route: HTTPRoute, refs: list[ParentRef], res: RouteResolution) -> None:
        """Record parentRefs of a route served by a waypoint."""
        key = (route.meta.namespace, route.meta.name)
        if key not in self.conditions:
            self.conditions[key] = [Condition("Accepted", True, "Accepted", "Route accepted by waypoint"),
                                    res.resolved_refs()]
        by_ref = self.refs.setdefault(key, {})
        for ref in refs:
            by_ref[repr(ref)] = ref.to_dict()


def _service_routes(svc: CapturedService, port: int, routes: list[HTTPRoute], table: RouteTable,
                    clusters: dict[str, ir.ClusterRef], parents: RouteParents) -> list[ir.Route]:
    """The routes of one captured service port: attached HTTPRoutes, else a default route."""
    entries: list[tuple[tuple, ir.Route]] = []
    ctx = ListenerContext(port, "http", mesh=True)
    for route in routes:
        refs = [r for r in route.parent_refs if _targets(r, route.meta.namespace, svc)
                and (r.port is None or r.port == port)]
        if not refs:
            continue
        res = table.resolution(route, mesh=True)
        clusters.update(res.clusters())
        entries.extend(table.routes_for(route, ctx))
        parents.add(route, refs, res)
    if entries:
        entries.sort(key=lambda e: e[0])
        return [r for _, r in entries]
    # No route: everything to the service itself.
    model = svc.model
    own = service_cluster(model, port)
    clusters[own.name] = own
    source = service_source(svc.kind, model)
    return [ir.Route(name=f"{model.namespace}/{model.name}/default", match=ir.RouteMatch("prefix", "/"),
                     backends=(ir.WeightedBackend(own.name, 1),), source=source)]


def translate_waypoint(gateway: Gateway, address: str, captured: list[CapturedService], routes: list[HTTPRoute],
                       table: RouteTable, parents: RouteParents) -> ir.GatewayConfig:
    """One waypoint Gateway's IR; its listeners and chains name the waypoint and the service.

    Routes attached to its services are served from `table` and recorded in `parents`.
    """
    namespace, name = gateway.meta.namespace, gateway.meta.name
    waypoint_ref = ir.SourceRef("Gateway", "gateway.networking.k8s.io/v1", namespace, name,
                                annotations=metadata_annotations(gateway.meta.annotations))
    clusters: dict[str, ir.ClusterRef] = {}
    chains: list[ir.FilterChain] = []
    configs: list[ir.RouteConfig] = []
    direct: dict[tuple[str, int], list[ir.FilterChain]] = {}
    for svc in sorted(captured, key=lambda c: (c.kind, c.model.namespace, c.model.name, c.model.hosts[0])):
        model = svc.model
        if not model.vips:
            continue
        source = service_source(svc.kind, model)
        for port in model.ports:
            chain_name = f"{svc.kind.lower()}/{model.namespace}/{model.name}/{model.hosts[0]}/{port.number}"
            if _is_http(model, port.number):
                rc_name = f"waypoint.{model.hosts[0]}.{port.number}"
                vh_routes = _service_routes(svc, port.number, routes, table, clusters, parents)
                configs.append(ir.RouteConfig(rc_name, (ir.VirtualHost(f"{model.hosts[0]}:{port.number}", ("*",),
                                                                        tuple(vh_routes), (source,)),)))
                chain = ir.FilterChain(chain_name, rc_name, sources=(waypoint_ref, source), destination_ips=model.vips,
                                       destination_port=port.number)
            else:
                own = service_cluster(model, port.number)
                clusters[own.name] = own
                chain = ir.FilterChain(chain_name, "", sources=(waypoint_ref, source), destination_ips=model.vips,
                                       destination_port=port.number, tcp_cluster=own.name)
            chains.append(chain)
            for vip in model.vips:
                direct.setdefault((vip, port.number), []).append(chain)
    listeners = [ir.Listener(f"{address}_{PROXY_PROTOCOL_PORT}", address, PROXY_PROTOCOL_PORT, "MESH",
                             tuple(chains), proxy_protocol=True)] if chains else []
    for (vip, number), vchains in sorted(direct.items()):
        listeners.append(ir.Listener(f"{vip}_{number}", vip, number, "MESH", tuple(vchains)))
    return ir.GatewayConfig(namespace, name, tuple(listeners), tuple(configs),
                            tuple(clusters[k] for k in sorted(clusters)), ())

