"""Resolving routes' backendRefs to clusters, with the reason when one cannot be used."""

from __future__ import annotations

from dataclasses import dataclass

from ..discovery.backend_tls import targets_port
from ..discovery.index import Discovery
from ..discovery.model import ServiceModel
from ..discovery.protocols import HTTP2, negotiated_by_alpn, upstream_protocol
from ..ir import ClusterRef
from ..naming import cluster_name
from ..resources.gateway_api import GROUP, BackendObjectRef, HTTPRoute
from ..resources.gateway_api.grpc_route import GRPCRoute
from ..resources.gateway_api.stream_routes import TCPRoute, TLSRoute, UDPRoute
from ..store import Store
from .conditions import Condition
from .references import reference_permitted

# Reasons in the order the ResolvedRefs condition reports them when several refs fail.
REASON_ORDER = ("RefNotPermitted", "InvalidKind", "BackendNotFound", "UnsupportedProtocol")


@dataclass(frozen=True, slots=True)
class Resolution:
    """A backend that resolved to a cluster, or the reason it did not."""

    cluster: ClusterRef | None
    reason: str = ""
    message: str = ""


ISTIO_GROUP = "networking.istio.io"
# Route kinds that forward connections or datagrams, not HTTP requests.
STREAM_KINDS = frozenset({"TLSRoute", "TCPRoute", "UDPRoute"})


def service_cluster(model: ServiceModel, port: int) -> ClusterRef:
    """The cluster of one port of a Service or ServiceEntry (named after its first host)."""
    host = model.hosts[0]
    return ClusterRef(cluster_name(port, host), model.kind, model.namespace, model.name, port, host)


def service_models(services: Discovery, kind: str, namespace: str, name: str) -> list[ServiceModel]:
    """The service models of a Service (one, or none when missing) or of a ServiceEntry (one per host)."""
    if kind == "Service":
        model = services.service(namespace, name)
        return [model] if model is not None else []
    return services.service_entry(namespace, name)


def _port_resolution(model: ServiceModel, label: str, port_number: int | None, route_kind: str,
                     store: Store | None = None) -> Resolution:
    if port_number is None:
        return Resolution(None, "BackendNotFound", f"{label}: a port is required")
    port = model.port(port_number)
    if port is None:
        return Resolution(None, "BackendNotFound", f"{label} has no port {port_number}")
    transport = "UDP" if route_kind == "UDPRoute" else "TCP"
    if port.protocol != transport:
        return Resolution(None, "UnsupportedProtocol", f"{label} port {port_number} is {port.protocol}, not {transport}")
    if route_kind in STREAM_KINDS:
        return Resolution(service_cluster(model, port.number))  # bytes through: whatever the port speaks
    # A Service port a BackendTLSPolicy targets is spoken to over TLS (discovery/backend_tls.py).
    tls = store is not None and model.kind == "Service" and any(
        targets_port(t, model.name, port.name)
        for p in store.in_namespace("BackendTLSPolicy", model.namespace) for t in p.target_refs)
    protocol = upstream_protocol(port, tls)
    if protocol is None:
        return Resolution(None, "UnsupportedProtocol",
                          f"{label} port {port_number} has appProtocol {port.app_protocol}, which needs TLS to the "
                          "backend: a BackendTLSPolicy targeting the port")
    if route_kind == "GRPCRoute" and protocol != HTTP2 and not (tls and negotiated_by_alpn(port)):
        # The cluster of a port speaks what the port says (shared by every route to it); gRPC needs HTTP/2.
        return Resolution(None, "UnsupportedProtocol",
                          f"{label} port {port_number} is not an HTTP/2 port: gRPC backends need appProtocol "
                          "kubernetes.io/h2c or grpc, or a port name starting with grpc-")
    return Resolution(service_cluster(model, port.number))


def _resolve_istio(store: Store, services: Discovery, route_kind: str, route_namespace: str,
                   ref: BackendObjectRef, grants: bool) -> Resolution:
    """kind ServiceEntry (by name) or Hostname (a ServiceEntry host, as Istio resolves it)."""
    if ref.kind == "Hostname":
        label = f"Hostname {ref.name}"
        model = services.host(ref.name, route_namespace)
        if model is None:
            return Resolution(None, "BackendNotFound",
                              f"{label}: no ServiceEntry visible from {route_namespace} has this host")
        return _port_resolution(model, label, ref.port, route_kind)
    ns = ref.namespace or route_namespace
    label = f"ServiceEntry {ns}/{ref.name}"
    if grants and not reference_permitted(store, GROUP, route_kind, route_namespace, ISTIO_GROUP, "ServiceEntry", ns,
                                          ref.name):
        return Resolution(None, "RefNotPermitted",
                          f"{label}: no ReferenceGrant in {ns} allows {route_kind}s from {route_namespace}")
    models = services.service_entry(ns, ref.name)
    if not models:
        return Resolution(None, "BackendNotFound", f"{label} does not exist")
    # A ServiceEntry reference means its first host, whose owner must be this entry.
    owner = services.host(models[0].hosts[0], ns)
    if owner is not None and (owner.namespace, owner.name) != (ns, ref.name):
        return Resolution(None, "BackendNotFound", f"{label}: host {models[0].hosts[0]} belongs to the older "
                                                   f"ServiceEntry {owner.namespace}/{owner.name}")
    return _port_resolution(models[0], label, ref.port, route_kind)


def resolve_backend(store: Store, services: Discovery, route_kind: str, route_namespace: str,
                    ref: BackendObjectRef, grants: bool = True) -> Resolution:
    """Resolve one backendRef of a `route_kind` in `route_namespace`. `grants`: whether a reference
    to another namespace needs a ReferenceGrant (not for mesh routes, GEP-1294)."""
    ns = ref.namespace or route_namespace
    label = f"{ref.kind} {ns}/{ref.name}"
    if ref.group == ISTIO_GROUP and ref.kind in ("ServiceEntry", "Hostname"):
        return _resolve_istio(store, services, route_kind, route_namespace, ref, grants)
    if not (ref.group == "" and ref.kind == "Service"):
        group = ref.group or "core"
        return Resolution(None, "InvalidKind", f"{label}: backend kind {group}/{ref.kind} is not supported")
    if grants and not reference_permitted(store, GROUP, route_kind, route_namespace, "", "Service", ns, ref.name):
        return Resolution(None, "RefNotPermitted",
                          f"{label}: no ReferenceGrant in {ns} allows {route_kind}s from {route_namespace}")
    svc = services.service(ns, ref.name)
    if svc is None:
        return Resolution(None, "BackendNotFound", f"{label} does not exist")
    return _port_resolution(svc, label, ref.port, route_kind, store)


# A route of any kind of the registry (gateway/route_kinds.py): meta, parent_refs, hostnames, rules.
RouteObject = HTTPRoute | GRPCRoute | TLSRoute | TCPRoute | UDPRoute


@dataclass(slots=True)
class RouteResolution:
    """A route's backends and mirrors, per rule, resolved once and shared by every parent it has."""

    backends: list[list[Resolution]]
    mirrors: list[list[Resolution]]

    def clusters(self) -> dict[str, ClusterRef]:
        """Every cluster the route's rules send or mirror to, by name."""
        out: dict[str, ClusterRef] = {}
        for group in (*self.backends, *self.mirrors):
            for res in group:
                if res.cluster is not None:
                    out[res.cluster.name] = res.cluster
        return out

    def failures(self) -> list[Resolution]:
        """The references that did not resolve: backends of every rule, then mirrors."""
        return [r for group in (*self.backends, *self.mirrors) for r in group if r.cluster is None]

    def resolved_refs(self) -> Condition:
        """The route's ResolvedRefs condition; of several failures, the first reason in REASON_ORDER."""
        failures = self.failures()
        if not failures:
            return Condition("ResolvedRefs", True, "ResolvedRefs", "All references resolved")
        reason = min((f.reason for f in failures), key=REASON_ORDER.index)
        return Condition("ResolvedRefs", False, reason, "; ".join(f.message for f in failures))


def resolve_route(store: Store, services: Discovery, route: RouteObject, mesh: bool = False) -> RouteResolution:
    """Resolve every backendRef and RequestMirror backend of a route's rules. `mesh`: as a route
    on a Service (GAMMA), whose references to other namespaces need no ReferenceGrant: GEP-1294,
    "Routes of either type can send traffic to backendRefs in any namespace. Unlike Gateway bound
    routes, this is allowed without a ReferenceGrant" (a mesh route augments a Service clients
    can already reach; it exposes nothing new)."""
    ns = route.meta.namespace
    grants = not mesh
    backends = [[resolve_backend(store, services, route.kind, ns, b.ref, grants) for b in rule.backend_refs]
                for rule in route.rules]
    mirrors = [
        [resolve_backend(store, services, route.kind, ns, f.request_mirror.backend, grants)
         for f in rule.filters if f.type == "RequestMirror" and f.request_mirror is not None]
        for rule in route.rules
    ]
    return RouteResolution(backends, mirrors)
