"""The object store: every object by resource, one resourceVersion counter for the whole API (as
etcd's revision), a bounded history of change events for watches to resume from, and the open
watchers each change is handed to. Mechanism only: the API's rules live in `verbs.py`."""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import expired

ResourceKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace or "", name)


@dataclass(frozen=True)
class Event:
    """One change: the object after it (for DELETED, its last state at the deletion's
    resourceVersion) and before it (None for ADDED), so a watch can tell selector transitions."""

    rv: int
    type: str
    resource: ResourceKey
    obj: dict[str, Any]
    old: dict[str, Any] | None = None


@dataclass(eq=False)
class Watcher:
    """An open watch: the events of its resource reach `queue`; an int there asks for a BOOKMARK
    at that resourceVersion, None ends the watch."""

    resource: ResourceKey
    queue: asyncio.Queue[Event | int | None]
    overflowed: bool = False
    bookmarks: bool = False


def namespace_of(obj: dict[str, Any]) -> str:
    """metadata.namespace, "" for cluster-scoped objects."""
    return (obj.get("metadata") or {}).get("namespace") or ""


def name_of(obj: dict[str, Any]) -> str:
    """metadata.name."""
    return (obj.get("metadata") or {}).get("name") or ""


@dataclass(eq=False)
class Store:
    """All objects, the resourceVersion counter, history and watchers of one emulated API."""

    history_limit: int = 1000
    watcher_queue_limit: int = 10000
    rv: int = 1
    history_start: int = 1  # every change after this resourceVersion is in `history`
    objects: dict[ResourceKey, dict[ObjectKey, dict[str, Any]]] = field(default_factory=dict)
    history: collections.deque[Event] = field(default_factory=collections.deque)
    watchers: set[Watcher] = field(default_factory=set)

    def get(self, resource: ResourceKey, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object (not a copy: callers must not change it), or None."""
        return self.objects.get(resource, {}).get((namespace, name))

    def items(self, resource: ResourceKey, namespace: str | None = None) -> list[dict[str, Any]]:
        """The stored objects of a resource (all namespaces when `namespace` is None), by key."""
        stored = self.objects.get(resource, {})
        return [stored[k] for k in sorted(stored) if namespace is None or k[0] == namespace]

    def all_objects(self) -> list[tuple[ResourceKey, dict[str, Any]]]:
        """Every stored object with its resource."""
        return [(r, obj) for r, objs in self.objects.items() for obj in objs.values()]

    def write(self, resource: ResourceKey, obj: dict[str, Any], event_type: str) -> dict[str, Any]:
        """Store `obj` (ADDED or MODIFIED) at the next resourceVersion, record and publish the event."""
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        key = (namespace_of(obj), name_of(obj))
        old = self.objects.setdefault(resource, {}).get(key)
        self.objects[resource][key] = obj
        self._publish(Event(self.rv, event_type, resource, obj, old))
        return obj

    def remove(self, resource: ResourceKey, namespace: str, name: str,
               last: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Delete an object at the next resourceVersion and publish DELETED with its last state
        (`last` when the deletion also changed it, e.g. removed its last finalizer); that state back."""
        old = self.objects.get(resource, {}).pop((namespace, name), None)
        if old is None:
            return None
        self.rv += 1
        gone = copy.deepcopy(last if last is not None else old)
        gone["metadata"]["resourceVersion"] = str(self.rv)
        self._publish(Event(self.rv, "DELETED", resource, gone, old))
        return gone

    def _publish(self, event: Event) -> None:
        self.history.append(event)
        while len(self.history) > self.history_limit:
            self.history_start = self.history.popleft().rv
        for watcher in list(self.watchers):
            if watcher.resource == event.resource:
                self._hand(watcher, event)

    def _hand(self, watcher: Watcher, item: Event | int | None) -> None:
        # A watcher that cannot keep up is closed, as the real server closes a slow watch.
        if watcher.overflowed:
            return
        if watcher.queue.qsize() >= self.watcher_queue_limit:
            watcher.overflowed = True
            while not watcher.queue.empty():
                watcher.queue.get_nowait()
            watcher.queue.put_nowait(None)
            return
        watcher.queue.put_nowait(item)

    def events_after(self, resource: ResourceKey, rv: int) -> list[Event]:
        """The kept changes of a resource after `rv`; 410 Expired when some were compacted away."""
        if rv < self.history_start:
            raise expired(rv, self.history_start)
        return [e for e in self.history if e.rv > rv and e.resource == resource]

    def open_watch(self, resource: ResourceKey, bookmarks: bool) -> Watcher:
        """Register a watcher; every later change of the resource is queued to it."""
        watcher = Watcher(resource, asyncio.Queue(), bookmarks=bookmarks)
        self.watchers.add(watcher)
        return watcher

    def close_watch(self, watcher: Watcher) -> None:
        """Forget a watcher (its stream has ended)."""
        self.watchers.discard(watcher)

    def drop_watches(self, resource: ResourceKey | None = None) -> int:
        """End every open watch (of one resource, or all); how many were ended."""
        ended = [w for w in self.watchers if resource is None or w.resource == resource]
        for watcher in ended:
            self._hand(watcher, None)
            self.watchers.discard(watcher)
        return len(ended)

    def bookmark_now(self) -> int:
        """Queue a BOOKMARK to every watcher that asked for bookmarks; how many."""
        asked = [w for w in self.watchers if w.bookmarks]
        for watcher in asked:
            self._hand(watcher, self.rv)
        return len(asked)

    def compact(self) -> int:
        """Forget the history: a watch from any resourceVersion before now gets 410 Expired."""
        self.history.clear()
        self.history_start = self.rv
        return self.rv

    def to_state(self) -> dict[str, Any]:
        """Everything that survives a restart: objects, the counter and the kept history."""
        return {
            "rv": self.rv, "historyStart": self.history_start,
            "objects": [{"resource": list(r), "object": obj} for r, obj in self.all_objects()],
            "history": [{"rv": e.rv, "type": e.type, "resource": list(e.resource), "object": e.obj, "old": e.old}
                        for e in self.history],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace the contents with a `to_state()` snapshot."""
        self.rv = int(state["rv"])
        self.history_start = int(state["historyStart"])
        self.objects = {}
        for entry in state["objects"]:
            obj = entry["object"]
            self.objects.setdefault(tuple(entry["resource"]), {})[(namespace_of(obj), name_of(obj))] = obj
        self.history = collections.deque(
            Event(int(e["rv"]), e["type"], (e["resource"][0], e["resource"][1]), e["object"], e["old"])
            for e in state["history"])


def save_state(store: Store, path: Path) -> None:
    """Write the store's state atomically (a crash leaves the old file or the new one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(store.to_state()))
    os.replace(tmp, path)


def load_state(store: Store, path: Path) -> bool:
    """Fill the store from a state file, if there is one; whether there was."""
    if not path.exists():
        return False
    store.load_state(json.loads(path.read_text()))
    return True
