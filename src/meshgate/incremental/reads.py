"""What a computation read from the store, and which of those reads a change affects.

A read is a small tuple naming what was looked at, at the granularity the store offers:

- ``("obj", kind, namespace, name)``: one object (present or absent);
- ``("ns", kind, namespace)``: every object of a kind in a namespace;
- ``("kind", kind)``: every object of a kind;
- ``("slices", namespace, service)``: the EndpointSlices labelled for a Service;
- ``("dr-host", host)``: the DestinationRules for a host (or a wildcard host), the unit in which
  plans look rules up, so that a rule change touches only the clusters of its host;
- ``("btls-target", namespace, service)``: the BackendTLSPolicies targeting a Service, likewise.

Recording is explicit and cheap: a `Recorder` holds a stack of frames, one per memoized
computation in progress; reads outside any frame are not recorded.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..naming import full_host
from ..resources.core import EndpointSlice
from ..resources.meta import ObjectKey
from ..store import Store

Read = tuple


def object_reads(kind: str, namespace: str, name: str) -> list[Read]:
    """The reads a change of one object affects (besides kind-specific ones)."""
    return [("obj", kind, namespace, name), ("ns", kind, namespace), ("kind", kind)]


def rule_host(rule: Any) -> str:
    """A DestinationRule's host as lookups see it (a short name is a Service of its namespace)."""
    return full_host(rule.host, rule.meta.namespace)


def changed_reads(key: ObjectKey, old: Any, new: Any) -> set[Read]:
    """Every read that may see a difference when the object at `key` goes from `old` to `new`
    (either may be None: created or deleted)."""
    out = set(object_reads(key.kind, key.namespace, key.name))
    for obj in (old, new):
        if obj is None:
            continue
        if isinstance(obj, EndpointSlice) and obj.service_name:
            out.add(("slices", key.namespace, obj.service_name))
        if key.kind == "DestinationRule":
            out.add(("dr-host", rule_host(obj)))
        if key.kind == "BackendTLSPolicy":
            out.update(("btls-target", key.namespace, t.name) for t in obj.target_refs if t.is_service)
    return out


def host_lookups(host: str) -> list[str]:
    """The rule hosts that can match `host`: itself, each wildcard of its suffixes, and `*`."""
    out = [host, "*"]
    parts = host.split(".")
    out.extend("*." + ".".join(parts[i:]) for i in range(1, len(parts)))
    return out


class Recorder:
    """The reads of the memoized computations in progress (innermost last)."""

    def __init__(self) -> None:
        self._frames: list[set[Read]] = []

    def read(self, read: Read) -> None:
        """Note one read in the computation running now (if any)."""
        if self._frames:
            self._frames[-1].add(read)

    def read_all(self, reads: Iterable[Read]) -> None:
        """Note reads made through another computation (a memo hit counts as its reads)."""
        if self._frames:
            self._frames[-1].update(reads)

    @contextmanager
    def frame(self) -> Iterator[set[Read]]:
        """A new computation: yields the set its reads go to; they also count for the enclosing one."""
        reads = self.push()
        try:
            yield reads
        finally:
            self.pop()

    def push(self) -> set[Read]:
        """Start a computation (what `frame` does, for callers hot enough to skip a context
        manager): returns the set its reads go to. Each push is followed by one `pop`."""
        reads: set[Read] = set()
        self._frames.append(reads)
        return reads

    def pop(self) -> None:
        """End the innermost computation; its reads also count for the enclosing one."""
        reads = self._frames.pop()
        if self._frames:
            self._frames[-1].update(reads)


class TrackedStore:
    """The store's read API, noting each read in a recorder (what memoized computations use)."""

    def __init__(self, store: Store, recorder: Recorder) -> None:
        self.store = store
        self.recorder = recorder

    def get(self, kind: str, namespace: str, name: str) -> Any:
        """One object, or None."""
        self.recorder.read(("obj", kind, namespace, name))
        return self.store.get(kind, namespace, name)

    def list(self, kind: str) -> builtins.list[Any]:
        """Every object of a kind, ordered by namespace and name."""
        self.recorder.read(("kind", kind))
        return self.store.list(kind)

    def in_namespace(self, kind: str, namespace: str) -> builtins.list[Any]:
        """Objects of a kind in one namespace, ordered by name."""
        self.recorder.read(("ns", kind, namespace))
        return self.store.in_namespace(kind, namespace)

    def endpoint_slices(self, namespace: str, service: str) -> builtins.list[EndpointSlice]:
        """The EndpointSlices labelled for a Service, ordered by name."""
        self.recorder.read(("slices", namespace, service))
        return self.store.endpoint_slices(namespace, service)
