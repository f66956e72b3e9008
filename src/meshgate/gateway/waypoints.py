"""Waypoint Gateways: the listeners, filter chains and routes of a waypoint proxy.

Per captured service and port, a filter chain matched on the service's VIPs and port: HTTP
ports (HTTP/1.1 and HTTP/2 alike, so gRPC too) get the routes of the mesh kinds (RouteKind.mesh:
HTTPRoutes and GRPCRoutes) attached to the service (parentRef to the Service, the ServiceEntry or
one of its hosts) or, when none is, a default route `/` to the service itself; other ports a
TCP proxy to the service. GRPCRoutes and HTTPRoutes on one port share its virtual host as on a
Gateway listener: the gRPC routes first, matching gRPC requests only. Connections arrive two ways: on port 15088 with a PROXY protocol
header naming the original destination (as ztunnel hands them over), and directly on each VIP
and port (standalone, where no ztunnel exists).

Producer and consumer routes (GEP-1294, "Namespace boundaries"): a route in the service's own
namespace is a producer route and governs every client; a route in another namespace is a
consumer route and governs only the clients of its own namespace, which then use their
namespace's consumer routes instead of the producer's (per service port). The waypoint tells a
client's namespace by its address: each namespace with consumer routes for a port gets a filter
chain matched on its Pods' IPs (`client_addresses`, from the Pods meshgate knows; with the PROXY
protocol, the source the header names). Pods it does not know fall to the producer routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import ir
from ..discovery.model import ServiceModel
from ..resources.gateway_api import Gateway, ParentRef
from ..resources.meta import metadata_annotations
from ..store import Store
from .backends import ISTIO_GROUP, RouteObject, RouteResolution, service_cluster
from .conditions import Condition
from .route_outcomes import unsupported_rules
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
    """Routes attached to captured services, by (kind, namespace, name): each route's
    conditions, built once, and the parentRefs that attached it, in the order first seen."""

    conditions: dict[tuple[str, str, str], list[Condition]] = field(default_factory=dict)
    refs: dict[tuple[str, str, str], dict[str, dict]] = field(default_factory=dict)  # route → repr(ref) → ref

    def add(self, route: RouteObject, refs: list[ParentRef], res: RouteResolution) -> None:
        """Record parentRefs of a route served by a waypoint."""
        key = (route.kind, route.meta.namespace, route.meta.name)
        if key not in self.conditions:
            # Unsupported values drop rules here as on a Gateway (route_outcomes.unsupported_rules).
            rejected, partial = unsupported_rules(route)
            self.conditions[key] = [rejected or Condition("Accepted", True, "Accepted", "Route accepted by waypoint"),
                                    res.resolved_refs(), *([partial] if partial is not None else [])]
        by_ref = self.refs.setdefault(key, {})
        for ref in refs:
            by_ref[repr(ref)] = ref.to_dict()


def client_addresses(store: Store) -> dict[str, tuple[str, ...]]:
    """The IPs of the Pods of each namespace (not finished ones): how a waypoint tells which
    namespace a client is in, for consumer routes."""
    out: dict[str, set[str]] = {}
    for pod in store.list("Pod"):
        if pod.phase not in ("Succeeded", "Failed"):
            out.setdefault(pod.meta.namespace, set()).update(ip for ip in pod.pod_ips if ip)
    return {ns: tuple(sorted(ips)) for ns, ips in out.items() if ips}


def _attached(svc: CapturedService, port: int,
              routes: list[RouteObject]) -> dict[str, list[tuple[RouteObject, list]]]:
    """The routes attached to one service port with the parentRefs that attach them, by the
    route's namespace."""
    out: dict[str, list[tuple[RouteObject, list]]] = {}
    for route in routes:
        refs = [r for r in route.parent_refs if _targets(r, route.meta.namespace, svc)
                and (r.port is None or r.port == port)]
        if refs:
            out.setdefault(route.meta.namespace, []).append((route, refs))
    return out


def _service_routes(svc: CapturedService, port: int, attached: list[tuple[RouteObject, list]], table: RouteTable,
                    clusters: dict[str, ir.ClusterRef], parents: RouteParents) -> list[ir.Route]:
    """The routes of one captured service port: attached routes (in the route table's order:
    GRPCRoutes, then HTTPRoutes, each kind by its precedence), else a default route."""
    entries: list[tuple[tuple, ir.Route]] = []
    ctx = ListenerContext(port, "http", mesh=True)
    for route, refs in attached:
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


def translate_waypoint(gateway: Gateway, address: str, captured: list[CapturedService], routes: list[RouteObject],
                       table: RouteTable, parents: RouteParents,
                       clients: Mapping[str, tuple[str, ...]] | None = None) -> ir.GatewayConfig:
    """One waypoint Gateway's IR; its listeners and chains name the waypoint and the service.

    Routes attached to its services are served from `table` and recorded in `parents`.
    `clients`: the Pod IPs of each namespace (client_addresses), for consumer routes.
    """
    clients = clients or {}
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
                by_namespace = _attached(svc, port.number, routes)
                port_chains = []
                # Producer routes (or the default route) for every client; then, per namespace
                # with consumer routes, a chain for its Pods.
                for ns in [model.namespace, *sorted(set(by_namespace) - {model.namespace})]:
                    consumer = ns != model.namespace
                    vh_routes = _service_routes(svc, port.number, by_namespace.get(ns, []), table, clusters, parents)
                    if consumer and not clients.get(ns):
                        continue  # no known client in that namespace: nothing to match
                    rc_name = f"waypoint.{model.hosts[0]}.{port.number}" + (f".from.{ns}" if consumer else "")
                    configs.append(ir.RouteConfig(rc_name, (ir.VirtualHost(f"{model.hosts[0]}:{port.number}", ("*",),
                                                                            tuple(vh_routes), (source,)),)))
                    port_chains.append(ir.FilterChain(
                        chain_name + (f"/from/{ns}" if consumer else ""), rc_name, sources=(waypoint_ref, source),
                        destination_ips=model.vips, destination_port=port.number,
                        source_ips=clients[ns] if consumer else ()))
            else:
                own = service_cluster(model, port.number)
                clusters[own.name] = own
                port_chains = [ir.FilterChain(chain_name, "", sources=(waypoint_ref, source),
                                              destination_ips=model.vips, destination_port=port.number,
                                              tcp_cluster=own.name)]
            chains.extend(port_chains)
            for vip in model.vips:
                direct.setdefault((vip, port.number), []).extend(port_chains)
    listeners = [ir.Listener(f"{address}_{PROXY_PROTOCOL_PORT}", address, PROXY_PROTOCOL_PORT, "MESH",
                             tuple(chains), proxy_protocol=True)] if chains else []
    for (vip, number), vchains in sorted(direct.items()):
        listeners.append(ir.Listener(f"{vip}_{number}", vip, number, "MESH", tuple(vchains)))
    return ir.GatewayConfig(namespace, name, tuple(listeners), tuple(configs),
                            tuple(clusters[k] for k in sorted(clusters)), ())

