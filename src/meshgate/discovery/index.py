"""Discovery for one version of the store: service models and endpoints per service port.

Computed on first use and reused by every stage that asks (the gateway translation resolves
backends against the service models; the xDS stage builds clusters from the endpoints).
"""

from __future__ import annotations

from ..resources.core import EndpointSlice, Node
from ..store import Store
from .endpoints import slice_endpoints
from .model import (
    REGION_LABEL,
    SUBZONE_LABEL,
    ZONE_LABEL,
    EndpointModel,
    Locality,
    PortModel,
    ServiceModel,
)
from .pod_slices import slices_for_service
from .service_entries import service_entry_endpoints, service_entry_models
from .services import service_model
from .topology_hints import HintEvent, compute_hints, zone_cpu_ratios


class Discovery:
    """Service models by (kind, namespace, name) and endpoints by service port."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._services: dict[tuple[str, str], ServiceModel | None] = {}
        # (kind, namespace, name, port, host) → the port and its endpoints
        self._endpoints: dict[tuple[str, str, str, int, str], tuple[PortModel, tuple[EndpointModel, ...]] | None] = {}
        self._ports: dict[tuple[str, str], set[tuple[str, str, str, int, str]]] = {}  # service → endpoint keys
        self._hosts: dict[str, list[ServiceModel]] | None = None  # ServiceEntry host → models, oldest first
        self._slices: dict[tuple[str, str], list[EndpointSlice]] = {}
        # Nodes by name, read once: a Node change makes a new Discovery (only slice changes reuse one).
        self._node_map: dict[str, Node] | None = None
        self._localities: dict[str, Locality] = {}  # node name → locality, from _node_map
        self._ratios: dict[str, float] | None = None
        self._ratios_known = False
        self.hint_events: dict[tuple[str, str], list[HintEvent]] = {}  # what the hints controller said

    def service(self, namespace: str, name: str) -> ServiceModel | None:
        """The Kubernetes Service as a service model, or None."""
        key = (namespace, name)
        if key not in self._services:
            svc = self._store.get("Service", namespace, name)
            self._services[key] = service_model(svc, self.namespace_annotations(namespace)) if svc is not None else None
        return self._services[key]

    # -- ServiceEntries ------------------------------------------------------------------------
    def _host_index(self) -> dict[str, list[ServiceModel]]:
        if self._hosts is None:
            hosts: dict[str, list[ServiceModel]] = {}
            for se in self._store.list("ServiceEntry"):
                for model in service_entry_models(se, self.namespace_annotations(se.meta.namespace)):
                    hosts.setdefault(model.hosts[0], []).append(model)
            for models in hosts.values():
                # A host claimed by several entries belongs to the oldest (then namespace/name).
                models.sort(key=lambda m: (m.created, m.namespace, m.name))
            self._hosts = hosts
        return self._hosts

    def host(self, host: str, from_namespace: str) -> ServiceModel | None:
        """The ServiceEntry service for a host as seen from a namespace (exportTo; oldest wins)."""
        for model in self._host_index().get(host, ()):
            if model.visible_from(from_namespace):
                return model
        return None

    def service_entry(self, namespace: str, name: str) -> list[ServiceModel]:
        """A ServiceEntry's services (one per host), or [] when there is no such entry."""
        se = self._store.get("ServiceEntry", namespace, name)
        return service_entry_models(se, self.namespace_annotations(namespace)) if se is not None else []

    def namespace_annotations(self, namespace: str) -> dict[str, str]:
        """A Namespace's annotations ({} when there is no such Namespace)."""
        ns = self._store.get("Namespace", "", namespace)
        return ns.meta.annotations if ns is not None else {}

    def node_locality(self, node: str) -> Locality:
        """A Node's region/zone/subzone from its topology labels."""
        loc = self._localities.get(node)
        if loc is None:
            obj = self._nodes().get(node)
            labels = obj.meta.labels if obj is not None else {}
            loc = self._localities[node] = Locality(labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, ""),
                                                     labels.get(SUBZONE_LABEL, ""))
        return loc

    def invalidate_service(self, namespace: str, name: str) -> None:
        """Forget what was computed for one Service (its slices or spec changed)."""
        self._services.pop((namespace, name), None)
        self._slices.pop((namespace, name), None)
        for key in self._ports.pop((namespace, name), ()):
            self._endpoints.pop(key, None)

    def _node_region(self, node: str) -> str:
        return self.node_locality(node).region

    def slices(self, namespace: str, name: str) -> list[EndpointSlice]:
        """A Service's EndpointSlices: those in the input, and (standalone) those its selector's
        Pods give, as the EndpointSlice controller would write them."""
        key = (namespace, name)
        cached = self._slices.get(key)
        if cached is None:
            cached = list(self._store.endpoint_slices(namespace, name))
            svc = self._store.get("Service", namespace, name)
            if svc is not None:
                if svc.selector:
                    pods = self._store.in_namespace("Pod", namespace)
                    if pods:
                        cached += slices_for_service(svc, pods, self._nodes())
                # Topology hints on the slices the EndpointSlice controller manages.
                cached, events = compute_hints(svc, cached, self._nodes().values(), zone_ratios=self._zone_ratios)
                self.hint_events[key] = events
            self._slices[key] = cached
        return cached

    def _nodes(self) -> dict[str, Node]:
        if self._node_map is None:
            self._node_map = {n.meta.name: n for n in self._store.list("Node")}
        return self._node_map

    def _zone_ratios(self) -> dict[str, float] | None:
        """The Nodes' zone CPU ratios, computed once and shared by every Service's hints."""
        if not self._ratios_known:
            self._ratios = zone_cpu_ratios(self._nodes().values())[0]
            self._ratios_known = True
        return self._ratios

    def endpoints(self, kind: str, namespace: str, name: str, port: int,
                  host: str = "") -> tuple[PortModel, tuple[EndpointModel, ...]] | None:
        """A service port and its endpoints, or None when the service or port is gone."""
        key = (kind, namespace, name, port, host)
        if key in self._endpoints:
            return self._endpoints[key]
        result = None
        if kind == "ServiceEntry":
            se = self._store.get("ServiceEntry", namespace, name)
            model = next((m for m in self.service_entry(namespace, name) if m.hosts[0] == host), None)
            pm = model.port(port) if model is not None else None
            if se is not None and pm is not None:
                pods = self._store.in_namespace("Pod", namespace) if se.workload_selector is not None else ()
                wes = self._store.in_namespace("WorkloadEntry", namespace) if se.workload_selector is not None else ()
                result = (pm, service_entry_endpoints(se, host, pm, pods, wes, self.node_locality))
        elif kind == "Service":
            model = self.service(namespace, name)
            pm = model.port(port) if model is not None else None
            if pm is not None:
                result = (pm, slice_endpoints(self.slices(namespace, name), pm, self._node_region))
        self._endpoints[key] = result
        self._ports.setdefault((namespace, name), set()).add(key)
        return result
