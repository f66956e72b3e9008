"""Resolving HTTPRoute backendRefs to clusters, with the reason when one cannot be used."""

from __future__ import annotations

from dataclasses import dataclass

from ..discovery.index import Discovery
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


def resolve_backend(store: Store, services: Discovery, route_namespace: str, ref: BackendObjectRef) -> Resolution:
    """Resolve one backendRef of an HTTPRoute in `route_namespace`."""
    ns = ref.namespace or route_namespace
    label = f"{ref.kind} {ns}/{ref.name}"
    if not (ref.group == "" and ref.kind == "Service"):
        group = ref.group or "core"
        return Resolution(None, "InvalidKind", f"{label}: backend kind {group}/{ref.kind} is not supported")
    if not reference_permitted(store, GROUP, "HTTPRoute", route_namespace, "", "Service", ns, ref.name):
        return Resolution(None, "RefNotPermitted",
                          f"{label}: no ReferenceGrant in {ns} allows HTTPRoutes from {route_namespace}")
    svc = services.service(ns, ref.name)
    if svc is None:
        return Resolution(None, "BackendNotFound", f"{label} does not exist")
    assert ref.port is not None  # the schema requires a port for Services
    port = svc.port(ref.port)
    if port is None:
        return Resolution(None, "BackendNotFound", f"{label} has no port {ref.port}")
    if port.protocol != "TCP":
        return Resolution(None, "UnsupportedProtocol", f"{label} port {ref.port} is {port.protocol}, not TCP")
    if upstream_protocol(port) is None:
        return Resolution(None, "UnsupportedProtocol",
                          f"{label} port {ref.port} has appProtocol {port.app_protocol}, which needs TLS to the backend")
    host = svc.hosts[0]
    return Resolution(ClusterRef(cluster_name(port.number, host), "Service", ns, ref.name, port.number))
