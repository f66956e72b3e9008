"""Resolving HTTPRoute backendRefs to clusters, with the reason when one cannot be used."""

from __future__ import annotations

from dataclasses import dataclass

from ..discovery.index import Discovery
from ..discovery.model import ServiceModel
from ..discovery.protocols import upstream_protocol
from ..ir import ClusterRef
from ..resources.gateway_api import GROUP, BackendObjectRef
from ..store import Store
from ..naming import cluster_name
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


def _port_resolution(model: ServiceModel, label: str, port_number: int | None) -> Resolution:
    if port_number is None:
        return Resolution(None, "BackendNotFound", f"{label}: a port is required")
    port = model.port(port_number)
    if port is None:
        return Resolution(None, "BackendNotFound", f"{label} has no port {port_number}")
    if port.protocol != "TCP":
        return Resolution(None, "UnsupportedProtocol", f"{label} port {port_number} is {port.protocol}, not TCP")
    if upstream_protocol(port) is None:
        return Resolution(None, "UnsupportedProtocol",
                          f"{label} port {port_number} has appProtocol {port.app_protocol}, which needs TLS to the backend")
    host = model.hosts[0]
    return Resolution(ClusterRef(cluster_name(port.number, host), model.kind, model.namespace, model.name,
                                 port.number, host))


def _resolve_istio(store: Store, services: Discovery, route_namespace: str, ref: BackendObjectRef) -> Resolution:
    """kind ServiceEntry (by name) or Hostname (a ServiceEntry host, as Istio resolves it)."""
    if ref.kind == "Hostname":
        label = f"Hostname {ref.name}"
        model = services.host(ref.name, route_namespace)
        if model is None:
            return Resolution(None, "BackendNotFound",
                              f"{label}: no ServiceEntry visible from {route_namespace} has this host")
        return _port_resolution(model, label, ref.port)
    ns = ref.namespace or route_namespace
    label = f"ServiceEntry {ns}/{ref.name}"
    if not reference_permitted(store, GROUP, "HTTPRoute", route_namespace, ISTIO_GROUP, "ServiceEntry", ns, ref.name):
        return Resolution(None, "RefNotPermitted",
                          f"{label}: no ReferenceGrant in {ns} allows HTTPRoutes from {route_namespace}")
    models = services.service_entry(ns, ref.name)
    if not models:
        return Resolution(None, "BackendNotFound", f"{label} does not exist")
    # A ServiceEntry reference means its first host, whose owner must be this entry.
    owner = services.host(models[0].hosts[0], ns)
    if owner is not None and (owner.namespace, owner.name) != (ns, ref.name):
        return Resolution(None, "BackendNotFound", f"{label}: host {models[0].hosts[0]} belongs to the older "
                                                   f"ServiceEntry {owner.namespace}/{owner.name}")
    return _port_resolution(models[0], label, ref.port)


def resolve_backend(store: Store, services: Discovery, route_namespace: str, ref: BackendObjectRef) -> Resolution:
    """Resolve one backendRef of an HTTPRoute in `route_namespace`."""
    ns = ref.namespace or route_namespace
    label = f"{ref.kind} {ns}/{ref.name}"
    if ref.group == ISTIO_GROUP and ref.kind in ("ServiceEntry", "Hostname"):
        return _resolve_istio(store, services, route_namespace, ref)
    if not (ref.group == "" and ref.kind == "Service"):
        group = ref.group or "core"
        return Resolution(None, "InvalidKind", f"{label}: backend kind {group}/{ref.kind} is not supported")
    if not reference_permitted(store, GROUP, "HTTPRoute", route_namespace, "", "Service", ns, ref.name):
        return Resolution(None, "RefNotPermitted",
                          f"{label}: no ReferenceGrant in {ns} allows HTTPRoutes from {route_namespace}")
    svc = services.service(ns, ref.name)
    if svc is None:
        return Resolution(None, "BackendNotFound", f"{label} does not exist")
    return _port_resolution(svc, label, ref.port)
