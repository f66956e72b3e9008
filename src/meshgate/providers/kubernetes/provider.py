"""The Kubernetes provider: the Provider protocol over the API server.

One reflector per kind (per watched namespace for namespaced kinds) keeps the provider's view
of the API in step; the provider types each object as the file provider would (the same
loader, strict in the same way) with its origin the resourceVersion it was read at, and hands
the control plane change sets. An update that changes nothing the translation reads (a status
write, which bumps the resourceVersion) is no change: the control plane is not woken by the
status it writes. The raw objects of the kinds meshgate writes status to are kept for the status
writer (other controllers' entries, and the current status to compare with).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from ...resources.envoy_gateway import POLICY_KINDS as EG_POLICY_KINDS
from ...resources.errors import InputError
from ...resources.gateway_api import POLICY_KINDS, ROUTE_KINDS
from ...resources.kinds import KindSpec
from ...resources.loader import LoadResult, Rejected, parse_api_object
from ...resources.meta import ObjectKey
from ..changes import ChangeSet
from .client import KubeClient
from .connection import Connection
from .kinds import ApiResource, watched_kinds
from .reflector import Reflector, Timing

log = logging.getLogger("meshgate.kubernetes")

# Kinds whose raw objects the status writer reads (their current status and other controllers' parts).
STATUS_KINDS = frozenset({"GatewayClass", "Gateway", "ListenerSet", *ROUTE_KINDS, *POLICY_KINDS, *EG_POLICY_KINDS})


def _key(spec: KindSpec, obj: dict) -> ObjectKey | None:
    md = obj.get("metadata")
    if not isinstance(md, dict) or not isinstance(md.get("name"), str):
        return None
    return ObjectKey(spec.kind, str(md.get("namespace") or "") if spec.namespaced else "", md["name"])


class KubernetesProvider:
    """Objects from the API server, as the Provider protocol hands them to the control plane."""

    def __init__(self, connection: Connection, namespaces: Iterable[str] = (), timing: Timing | None = None,
                 kinds: Iterable[KindSpec] | None = None) -> None:
        self.connection = connection
        self.client: KubeClient | None = None  # connected by `start`
        self.namespaces = sorted(set(namespaces))  # empty: every namespace
        self.timing = timing or Timing()
        self.kinds = list(kinds) if kinds is not None else watched_kinds()
        self._objects: dict[ObjectKey, Any] = {}  # the typed objects served
        self._raw: dict[ObjectKey, dict] = {}  # raw objects of STATUS_KINDS
        self._errors: dict[ObjectKey, list[InputError]] = {}
        self._rejected: dict[ObjectKey, Rejected] = {}
        self._scopes: dict[tuple[str, str], set[ObjectKey]] = {}  # (kind, namespace scope) → keys listed there
        self._pending = ChangeSet()
        self._wake = asyncio.Event()
        self.reflectors: list[Reflector] = []
        self.on_status_object: Callable[[], None] | None = None  # an object we write status to moved
        self._tasks: list[asyncio.Task] = []

    # -- Provider protocol -------------------------------------------------------------------
    @property
    def errors(self) -> list[InputError]:
        """The problems of the objects currently in the API, in kind/namespace/name order."""
        errors = dict(self._errors)  # a copy (one C call): the control plane reads this from its worker thread
        return [e for key in sorted(errors, key=_order) for e in errors[key]]

    @property
    def rejected(self) -> list[Rejected]:
        """Objects in the API that failed validation (their status says why)."""
        rejected = dict(self._rejected)  # as above
        return [rejected[k] for k in sorted(rejected, key=_order)]

    def load_all(self) -> ChangeSet:
        """Every object listed so far (after `start`), as one change set."""
        self._pending = ChangeSet()
        self._wake.clear()
        return ChangeSet(upserts=self._objects.values())

    async def watch(self) -> AsyncIterator[ChangeSet]:
        """The changes the reflectors bring, each batch as it is woken for."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            changes, self._pending = self._pending, ChangeSet()
            if changes:
                yield changes

    # -- running -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start a reflector per kind (and watched namespace) and wait until each has listed
        once or found its kind absent or forbidden."""
        self.client = client = await self.connection.client()
        waiting: set[int] = set()
        synced = asyncio.Event()

        def done(i: int) -> None:
            waiting.discard(i)
            if not waiting:
                synced.set()

        for spec in self.kinds:
            for ns in (self.namespaces if spec.namespaced and self.namespaces else [""]):
                i = len(self.reflectors)
                waiting.add(i)
                self.reflectors.append(Reflector(client, spec, ns, self, self.timing,
                                                 on_synced=lambda i=i: done(i)))  # type: ignore[misc]
        self._tasks = [asyncio.ensure_future(r.run()) for r in self.reflectors]
        if waiting:
            await synced.wait()

    async def stop(self) -> None:
        """Stop the reflectors and close the connection."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.client is not None:
            await self.client.close()
            self.client = None

    def resource(self, kind: str) -> ApiResource | None:
        """Where `kind` is served (None while it is not, or not yet known)."""
        return next((r.resource for r in self.reflectors if r.spec.kind == kind and r.resource is not None), None)

    def raw(self, key: ObjectKey) -> dict | None:
        """The object as the API server last sent it (STATUS_KINDS only)."""
        return self._raw.get(key)

    # -- Sink (the reflectors') --------------------------------------------------------------
    def listed(self, spec: KindSpec, namespace: str, items: list[dict], api_version: str) -> None:
        """A full list: upsert what it holds, delete what it no longer does."""
        seen: set[ObjectKey] = set()
        for obj in items:
            key = self._upsert(spec, obj, api_version)
            if key is not None:
                seen.add(key)
        before = self._scopes.get((spec.kind, namespace), set())
        for key in before - seen:
            self._delete(key)
        self._scopes[(spec.kind, namespace)] = seen
        self._wake.set()

    def event(self, spec: KindSpec, kind: str, obj: dict, api_version: str) -> None:
        """One watch event."""
        if kind == "DELETED":
            key = _key(spec, obj)
            if key is not None:
                self._delete(key)
                self._scopes.get((spec.kind, self._scope_of(spec, key)), set()).discard(key)
        else:
            key = self._upsert(spec, obj, api_version)
            if key is not None:
                self._scopes.setdefault((spec.kind, self._scope_of(spec, key)), set()).add(key)
        self._wake.set()

    def _scope_of(self, spec: KindSpec, key: ObjectKey) -> str:
        return key.namespace if spec.namespaced and self.namespaces else ""

    def _upsert(self, spec: KindSpec, obj: dict, api_version: str) -> ObjectKey | None:
        key = _key(spec, obj)
        if key is None:
            return None
        if key.namespace and self.namespaces and key.namespace not in self.namespaces:
            return None  # not ours to watch (a list of all namespaces would not hand it over)
        # List items may come without apiVersion and kind: the collection says them.
        if api_version:
            obj = {"apiVersion": api_version, "kind": spec.kind, **obj}
        if spec.kind in STATUS_KINDS:
            self._raw[key] = obj
            if self.on_status_object is not None:
                self.on_status_object()
        result = LoadResult()
        typed = parse_api_object(obj, result)
        problems = list(result.errors)
        if problems:
            self._errors[key] = problems
        else:
            self._errors.pop(key, None)
        if result.rejected:
            self._rejected[key] = result.rejected[0]
        else:
            self._rejected.pop(key, None)
        old = self._objects.get(key)
        if typed is None:
            if old is not None:  # as with files: an object turned invalid keeps its last good version
                log.warning("%s is invalid: keeping its last good version (%s)", key, old.source)
            return key
        if old is not None and dataclasses.replace(typed, source=old.source) == old:
            return key  # nothing the translation reads moved (a status write, a resync)
        self._objects[key] = typed
        self._pending.upsert(typed, key)
        return key

    def _delete(self, key: ObjectKey) -> None:
        self._raw.pop(key, None)
        self._errors.pop(key, None)
        self._rejected.pop(key, None)
        if self._objects.pop(key, None) is not None:
            self._pending.delete(key)


def _order(key: ObjectKey) -> tuple[str, str, str]:
    return (key.kind, key.namespace, key.name)
