"""The store: typed objects by kind and key, with the indexes the later stages look things up by.

Only the store knows where an object came from (its origin: file and line, or resourceVersion);
later stages read it and never reach back into a provider. It stores objects as providers give
them: filling in what an API server would is the file provider's job (providers/api_fields.py).
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .resources.core import EndpointSlice
from .resources.errors import InputError, duplicate_error
from .resources.loader import LoadResult, Rejected
from .resources.meta import ObjectKey


class Store:
    """Objects by kind and (namespace, name), plus EndpointSlices by the Service they belong to."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[tuple[str, str], Any]] = defaultdict(dict)
        # kind -> namespace -> name -> object: in_namespace is called per Service port.
        self._by_namespace: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._slices: dict[tuple[str, str], dict[str, EndpointSlice]] = defaultdict(dict)
        self.rejected: list[Rejected] = []

    @classmethod
    def from_load(cls, result: LoadResult) -> tuple[Store, list[InputError]]:
        """A store holding `result`'s objects, and the errors for duplicates it refused."""
        store = cls()
        errors = store.add_all(result.objects)
        store.rejected = list(result.rejected)
        return store, errors

    def add_all(self, objects: Iterable[Any]) -> list[InputError]:
        """Add objects; a second object with the same kind and name is refused with an error."""
        errors: list[InputError] = []
        for obj in objects:
            key = (obj.meta.namespace, obj.meta.name)
            first = self._objects[obj.kind].get(key)
            if first is not None:
                errors.append(duplicate_error(obj, first))
                continue
            self.put(obj)
        return errors

    def put(self, obj: Any) -> None:
        """Insert or replace an object."""
        key = (obj.meta.namespace, obj.meta.name)
        old = self._objects[obj.kind].get(key)
        if old is not None and isinstance(old, EndpointSlice) and old.service_name:
            self._slices[(old.meta.namespace, old.service_name)].pop(old.meta.name, None)
        self._objects[obj.kind][key] = obj
        self._by_namespace[obj.kind].setdefault(obj.meta.namespace, {})[obj.meta.name] = obj
        if isinstance(obj, EndpointSlice) and obj.service_name:
            self._slices[(obj.meta.namespace, obj.service_name)][obj.meta.name] = obj

    def apply(self, upserts: Iterable[Any], deletes: Iterable[ObjectKey]) -> set[ObjectKey]:
        """Apply a change set; the keys whose object actually changed.

        Objects are stored as given: what an API server fills in (uid, creationTimestamp,
        generation) comes with them, from the API server or from the provider that emulates it.
        An object equal to the one stored is no change.
        """
        changed: set[ObjectKey] = set()
        for key in deletes:
            if self.remove(key.kind, key.namespace, key.name) is not None:
                changed.add(key)
        for obj in upserts:
            key = ObjectKey.of(obj)
            old = self.get(key.kind, key.namespace, key.name)
            if old is obj or (old is not None and old == obj):
                continue
            self.put(obj)
            changed.add(key)
        return changed

    def remove(self, kind: str, namespace: str, name: str) -> Any:
        """Delete an object; returns it (None when absent)."""
        obj = self._objects[kind].pop((namespace, name), None)
        if obj is not None:
            in_ns = self._by_namespace[kind][namespace]
            del in_ns[name]
            if not in_ns:
                del self._by_namespace[kind][namespace]
        if isinstance(obj, EndpointSlice) and obj.service_name:
            self._slices[(namespace, obj.service_name)].pop(name, None)
        return obj

    def get(self, kind: str, namespace: str, name: str) -> Any:
        """One object, or None."""
        return self._objects[kind].get((namespace, name))

    def list(self, kind: str) -> list[Any]:
        """Every object of a kind, ordered by namespace and name."""
        objs = self._objects.get(kind)
        if not objs:
            return []
        return [objs[k] for k in sorted(objs)]

    def in_namespace(self, kind: str, namespace: str) -> builtins.list[Any]:
        """Objects of a kind in one namespace, ordered by name."""
        objs = self._by_namespace.get(kind, {}).get(namespace)
        if not objs:
            return []
        return [objs[k] for k in sorted(objs)]

    def endpoint_slices(self, namespace: str, service: str) -> builtins.list[EndpointSlice]:
        """The EndpointSlices labelled for a Service, ordered by name."""
        slices = self._slices.get((namespace, service))
        if not slices:
            return []
        return [slices[k] for k in sorted(slices)]

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """A namespace's labels; a namespace with no object still has its name label."""
        ns = self.get("Namespace", "", namespace)
        if ns is not None:
            return ns.meta.labels
        return {"kubernetes.io/metadata.name": namespace}
