"""Endpoints per service port, computed from the store on first use and then reused."""

from __future__ import annotations

from ..store import Store
from .endpoints import REGION_LABEL, slice_endpoints
from .model import EndpointModel, PortModel
from .services import service_model


class EndpointIndex:
    """Endpoints of (kind, namespace, service, port) for one version of the store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[tuple[str, str, str, int], tuple[PortModel, tuple[EndpointModel, ...]] | None] = {}

    def _node_region(self, node: str) -> str:
        obj = self._store.get("Node", "", node)
        return obj.meta.labels.get(REGION_LABEL, "") if obj is not None else ""

    def lookup(self, kind: str, namespace: str, name: str, port: int) -> tuple[PortModel, tuple[EndpointModel, ...]] | None:
        """The service port and its endpoints, or None when the service or port is gone."""
        key = (kind, namespace, name, port)
        if key in self._cache:
            return self._cache[key]
        result = None
        if kind == "Service":
            svc = self._store.get("Service", namespace, name)
            if svc is not None:
                model = service_model(svc)
                pm = model.port(port)
                if pm is not None:
                    slices = self._store.endpoint_slices(namespace, name)
                    result = (pm, slice_endpoints(slices, pm, self._node_region))
        self._cache[key] = result
        return result
