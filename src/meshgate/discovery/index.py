"""Discovery for one version of the store: service models and endpoints per service port.

Computed on first use and reused by every stage that asks (the gateway translation resolves
backends against the service models; the xDS stage builds clusters from the endpoints).
"""

from __future__ import annotations

from ..store import Store
from .endpoints import REGION_LABEL, slice_endpoints
from .model import EndpointModel, PortModel, ServiceModel
from .services import service_model


class Discovery:
    """Service models by (kind, namespace, name) and endpoints by service port."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._services: dict[tuple[str, str], ServiceModel | None] = {}
        self._endpoints: dict[tuple[str, str, str, int], tuple[PortModel, tuple[EndpointModel, ...]] | None] = {}
        self._regions: dict[str, str] = {}
        self._ports: dict[tuple[str, str], set[tuple[str, str, str, int]]] = {}  # service → endpoint keys

    def service(self, namespace: str, name: str) -> ServiceModel | None:
        """The Kubernetes Service as a service model, or None."""
        key = (namespace, name)
        if key not in self._services:
            svc = self._store.get("Service", namespace, name)
            self._services[key] = service_model(svc) if svc is not None else None
        return self._services[key]

    def invalidate_service(self, namespace: str, name: str) -> None:
        """Forget what was computed for one Service (its slices or spec changed)."""
        self._services.pop((namespace, name), None)
        for key in self._ports.pop((namespace, name), ()):
            self._endpoints.pop(key, None)

    def _node_region(self, node: str) -> str:
        region = self._regions.get(node)
        if region is None:
            obj = self._store.get("Node", "", node)
            region = obj.meta.labels.get(REGION_LABEL, "") if obj is not None else ""
            self._regions[node] = region
        return region

    def endpoints(self, kind: str, namespace: str, name: str, port: int) -> tuple[PortModel, tuple[EndpointModel, ...]] | None:
        """A service port and its endpoints, or None when the service or port is gone."""
        key = (kind, namespace, name, port)
        if key in self._endpoints:
            return self._endpoints[key]
        result = None
        if kind == "Service":
            model = self.service(namespace, name)
            pm = model.port(port) if model is not None else None
            if pm is not None:
                slices = self._store.endpoint_slices(namespace, name)
                result = (pm, slice_endpoints(slices, pm, self._node_region))
        self._endpoints[key] = result
        self._ports.setdefault((namespace, name), set()).add(key)
        return result
