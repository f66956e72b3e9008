"""The garbage collector, as kube-controller-manager's: after an owner is removed, in the
background, each object whose ownerReferences name it is deleted when none of its owners is left,
or loses the dangling reference when another owner still exists; a terminating namespace is
emptied, then removed. Foreground deletion is treated as background (simplification)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .errors import ApiError
from .resources import ResourceType
from .store import name_of, namespace_of
from .verbs import Verbs


class GarbageCollector:
    """Deletes dependents of removed owners from a queue, one owner at a time."""

    def __init__(self, verbs: Verbs) -> None:
        self.verbs = verbs
        self._queue: asyncio.Queue[tuple[ResourceType, dict[str, Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        verbs.on_removed = self._removed

    def _removed(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        self._queue.put_nowait((rtype, obj))

    def start(self) -> None:
        """Start collecting; first sweep what a previous run may have left (owners already gone)."""
        if self._task is None:
            self._sweep_orphans()
            self._task = asyncio.create_task(self._run(), name="kubeapi-gc")

    async def stop(self) -> None:
        """Stop collecting (what is queued stays queued for the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every queued removal has been collected (for tests: no sleeping)."""
        await asyncio.wait_for(self._queue.join(), timeout)

    async def _run(self) -> None:
        while True:
            rtype, obj = await self._queue.get()
            try:
                self._collect(rtype, obj)
            finally:
                self._queue.task_done()
            await asyncio.sleep(0)  # let requests in between owners, as a background controller

    def _uids(self) -> set[str]:
        return {obj["metadata"].get("uid", "") for _, obj in self.verbs.store.all_objects()}

    def _collect(self, rtype: ResourceType, owner: dict[str, Any]) -> None:
        if rtype.key == ("", "namespaces"):
            self._empty_namespace(name_of(owner))
            return
        self._collect_dependents_of({owner["metadata"].get("uid", "")})
        if namespace_of(owner):
            self.verbs.finish_namespace(namespace_of(owner))

    def _collect_dependents_of(self, gone: set[str]) -> None:
        alive = self._uids()
        for key, obj in self.verbs.store.all_objects():
            refs = obj["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") in gone for r in refs):
                continue
            rtype = self.verbs.registry.get(*key)
            if rtype is None:
                continue
            try:
                if any(r.get("uid") in alive for r in refs):
                    kept = [r for r in refs if r.get("uid") in alive]
                    changed = {**obj, "metadata": {**obj["metadata"], "ownerReferences": kept}}
                    self.verbs.store.write(key, changed, "MODIFIED")
                else:
                    self.verbs.delete(rtype, namespace_of(obj), name_of(obj))
            except ApiError:
                continue  # gone meanwhile

    def _sweep_orphans(self) -> None:
        alive = self._uids()
        dangling = {r.get("uid", "") for _, obj in self.verbs.store.all_objects()
                    for r in obj["metadata"].get("ownerReferences") or []} - alive
        if dangling:
            self._collect_dependents_of(dangling)

    def _empty_namespace(self, namespace: str) -> None:
        for rtype in self.verbs.registry.all():
            if rtype.namespaced:
                self.verbs.delete_namespaced(rtype, namespace)
        self.verbs.finish_namespace(namespace)
