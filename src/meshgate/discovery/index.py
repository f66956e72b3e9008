"""Discovery: service models and endpoints per service port, kept across changes.

Computed on first use and reused by every stage that asks (the gateway translation resolves
backends against the service models; the xDS stage builds clusters from the endpoints), until
a change touches what a result read.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..incremental.memo import Memo
from ..incremental.reads import Read, Recorder, TrackedStore
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
    """Service models by (kind, namespace, name) and endpoints by service port.

    Every result is memoized with the store reads it made (incremental/), so one Discovery can
    live across changes: `invalidate` with a change's reads drops exactly what it touched.
    """

    def __init__(self, store: Store, recorder: Recorder | None = None, emulate_slice_controller: bool = True) -> None:
        """`emulate_slice_controller`: write Pods' EndpointSlices and topology hints as Kubernetes'
        EndpointSlice controller would (standalone); False in a cluster, where that controller
        writes them and meshgate consumes them as they are."""
        self.emulate_slice_controller = emulate_slice_controller
        self.recorder = recorder or Recorder()
        self._store = TrackedStore(store, self.recorder)
        r = self.recorder
        self._services: Memo[tuple[str, str], ServiceModel | None] = Memo(r)
        # (kind, namespace, name, port, host) → the port and its endpoints
        self._endpoints: Memo[tuple[str, str, str, int, str], tuple[PortModel, tuple[EndpointModel, ...]] | None] = \
            Memo(r)
        self._hosts: Memo[str, dict[str, list[ServiceModel]]] = Memo(r)  # ServiceEntry host → models, oldest first
        self._entries: Memo[tuple[str, str], list[ServiceModel]] = Memo(r)
        self._slices: Memo[tuple[str, str], list[EndpointSlice]] = Memo(r)
        self._node_map: Memo[str, dict[str, Node]] = Memo(r)
        self._localities: Memo[str, Locality] = Memo(r)  # node name → locality
        self._ratios: Memo[str, dict[str, float] | None] = Memo(r)
        self._memos: tuple[Memo, ...] = (self._services, self._endpoints, self._hosts, self._entries, self._slices,
                                         self._node_map, self._localities, self._ratios)
        self.hint_events: dict[tuple[str, str], list[HintEvent]] = {}  # what the hints controller said

    def invalidate(self, changed: Iterable[Read]) -> None:
        """Forget every result that read something `changed` names (incremental/reads.py)."""
        changed = set(changed)
        for memo in self._memos:
            memo.invalidate(changed)

    def service(self, namespace: str, name: str) -> ServiceModel | None:
        """The Kubernetes Service as a service model, or None."""
        def compute() -> ServiceModel | None:
            svc = self._store.get("Service", namespace, name)
            return service_model(svc, self.namespace_annotations(namespace)) if svc is not None else None
        return self._services.get((namespace, name), compute)

    # -- ServiceEntries ------------------------------------------------------------------------
    def _host_index(self) -> dict[str, list[ServiceModel]]:
        def compute() -> dict[str, list[ServiceModel]]:
            hosts: dict[str, list[ServiceModel]] = {}
            for se in self._store.list("ServiceEntry"):
                for model in service_entry_models(se, self.namespace_annotations(se.meta.namespace)):
                    hosts.setdefault(model.hosts[0], []).append(model)
            for models in hosts.values():
                # A host claimed by several entries belongs to the oldest (then namespace/name).
                models.sort(key=lambda m: (m.created, m.namespace, m.name))
            return hosts
        return self._hosts.get("", compute)

    def host(self, host: str, from_namespace: str) -> ServiceModel | None:
        """The ServiceEntry service for a host as seen from a namespace (exportTo; oldest wins)."""
        for model in self._host_index().get(host, ()):
            if model.visible_from(from_namespace):
                return model
        return None

    def host_models(self, host: str) -> list[ServiceModel]:
        """Every ServiceEntry service for a host, whatever its exportTo (oldest first)."""
        return list(self._host_index().get(host, ()))

    def service_entry(self, namespace: str, name: str) -> list[ServiceModel]:
        """A ServiceEntry's services (one per host), or [] when there is no such entry."""
        def compute() -> list[ServiceModel]:
            se = self._store.get("ServiceEntry", namespace, name)
            return service_entry_models(se, self.namespace_annotations(namespace)) if se is not None else []
        return self._entries.get((namespace, name), compute)

    def namespace_annotations(self, namespace: str) -> dict[str, str]:
        """A Namespace's annotations ({} when there is no such Namespace)."""
        ns = self._store.get("Namespace", "", namespace)
        return ns.meta.annotations if ns is not None else {}

    def node_locality(self, node: str) -> Locality:
        """A Node's region/zone/subzone from its topology labels."""
        def compute() -> Locality:
            obj = self._store.get("Node", "", node)  # this Node only: other Nodes' changes do not matter
            labels = obj.meta.labels if obj is not None else {}
            return Locality(labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, ""), labels.get(SUBZONE_LABEL, ""))
        return self._localities.get(node, compute)

    def invalidate_service(self, namespace: str, name: str) -> None:
        """Forget what was computed for one Service (its slices or spec changed)."""
        self.invalidate([("obj", "Service", namespace, name), ("slices", namespace, name)])

    def _node_region(self, node: str) -> str:
        return self.node_locality(node).region

    def slices(self, namespace: str, name: str) -> list[EndpointSlice]:
        """A Service's EndpointSlices: those in the input, and (standalone) those its selector's
        Pods give, as the EndpointSlice controller would write them."""
        def compute() -> list[EndpointSlice]:
            found = list(self._store.endpoint_slices(namespace, name))
            if not self.emulate_slice_controller:
                return found
            svc = self._store.get("Service", namespace, name)
            # Only a Service with a selector has slices the controller manages (Pods', and hints).
            if svc is not None and svc.selector:
                pods = self._store.in_namespace("Pod", namespace)
                if pods:
                    found += slices_for_service(svc, pods, self._nodes())
                # Topology hints on the slices the EndpointSlice controller manages.
                found, events = compute_hints(svc, found, self._nodes().values(), zone_ratios=self._zone_ratios)
                self.hint_events[(namespace, name)] = events
            else:
                self.hint_events.pop((namespace, name), None)
            return found
        return self._slices.get((namespace, name), compute)

    def _nodes(self) -> dict[str, Node]:
        return self._node_map.get("", lambda: {n.meta.name: n for n in self._store.list("Node")})

    def _zone_ratios(self) -> dict[str, float] | None:
        """The Nodes' zone CPU ratios, computed once and shared by every Service's hints."""
        return self._ratios.get("", lambda: zone_cpu_ratios(self._nodes().values())[0])

    def endpoints(self, kind: str, namespace: str, name: str, port: int,
                  host: str = "") -> tuple[PortModel, tuple[EndpointModel, ...]] | None:
        """A service port and its endpoints, or None when the service or port is gone."""
        def compute() -> tuple[PortModel, tuple[EndpointModel, ...]] | None:
            if kind == "ServiceEntry":
                se = self._store.get("ServiceEntry", namespace, name)
                model = next((m for m in self.service_entry(namespace, name) if m.hosts[0] == host), None)
                pm = model.port(port) if model is not None else None
                if se is not None and pm is not None:
                    selected = se.workload_selector is not None
                    pods = self._store.in_namespace("Pod", namespace) if selected else ()
                    wes = self._store.in_namespace("WorkloadEntry", namespace) if selected else ()
                    return (pm, service_entry_endpoints(se, host, pm, pods, wes, self.node_locality))
            elif kind == "Service":
                model = self.service(namespace, name)
                pm = model.port(port) if model is not None else None
                if pm is not None:
                    return (pm, slice_endpoints(self.slices(namespace, name), pm, self._node_region))
            return None
        return self._endpoints.get((kind, namespace, name, port, host), compute)
