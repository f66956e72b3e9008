"""List, then watch, one kind (in one namespace or all): client-go's reflector, kept small.

A reflector lists its kind and hands the whole list to its sink (which diffs it against what it
held: a re-list after a gap synthesizes the deletes it missed), then watches from the list's
resourceVersion with bookmarks, handing on each event. It lists again when the server says the
resourceVersion is too old (410 Gone) and reconnects with backoff when the connection fails. A
kind the server does not serve (its CRD is not installed) or that RBAC forbids is reported once
and looked for again every `recheck` seconds, so it is picked up when it appears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ...resources.kinds import KindSpec
from .client import ApiError, KubeClient
from .kinds import ApiResource, served

log = logging.getLogger("meshgate.kubernetes")


@dataclass(frozen=True, slots=True)
class Timing:
    """How long a reflector waits: the server-side watch timeout, backoff after failures,
    and how often a missing or forbidden kind is looked for again."""

    watch_timeout: int = 300
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    recheck: float = 10.0


class Sink(Protocol):
    """Where a reflector's lists and events go (the provider)."""

    def listed(self, spec: KindSpec, namespace: str, items: list[dict], api_version: str) -> None:
        """Everything of `spec`'s kind (in `namespace`, or all when empty) as of now."""

    def event(self, spec: KindSpec, kind: str, obj: dict, api_version: str) -> None:
        """One watch event: ADDED, MODIFIED or DELETED with its object."""


class Reflector:
    """Keeps a sink in step with one kind in one namespace (all when "")."""

    def __init__(self, client: KubeClient, spec: KindSpec, namespace: str, sink: Sink,
                 timing: Timing | None = None, on_synced: Callable[[], None] | None = None) -> None:
        self.client = client
        self.spec = spec
        self.namespace = namespace
        self.sink = sink
        self.timing = timing or Timing()
        self.on_synced = on_synced  # called once: after the first list, or once the kind is found absent
        self.state = "starting"  # starting, listing, watching, missing, forbidden, retrying
        self.lists = 0  # lists made (the first one and every re-list)
        self.resource: ApiResource | None = None  # where the kind is served, once found
        # The trouble last warned of ("" once a list succeeds): a kind that stays forbidden is
        # warned of once, not at every recheck (each recheck passes through "listing").
        self._warned = ""

    @property
    def scope(self) -> str:
        """The kind and namespace, as logs say it."""
        return f"{self.spec.kind}" + (f" in namespace {self.namespace}" if self.namespace else "")

    def _synced(self) -> None:
        if self.on_synced is not None:
            self.on_synced()
            self.on_synced = None

    def _report(self, state: str, message: str) -> None:
        """Log a trouble once (not every recheck), until a list succeeds again."""
        if self._warned != state:
            log.warning("%s: %s", self.scope, message)
        self.state = self._warned = state

    async def run(self) -> None:
        """List and watch until cancelled."""
        backoff = self.timing.backoff_initial
        while True:
            try:
                resource = self.resource = await served(self.client, self.spec)
                if resource is None:
                    self._report("missing", f"not served by the API server (is its CRD installed?); "
                                 f"looking again every {self.timing.recheck:g} s")
                    self.sink.listed(self.spec, self.namespace, [], "")
                    self._synced()
                    await asyncio.sleep(self.timing.recheck)
                    continue
                resource_version = await self._list(resource)
                backoff = self.timing.backoff_initial
                await self._watch(resource, resource_version)
            except ApiError as exc:
                if exc.code == 403:
                    self._report("forbidden", f"forbidden ({exc.message}); skipped, looking again every "
                                 f"{self.timing.recheck:g} s")
                    self._synced()
                    await asyncio.sleep(self.timing.recheck)
                    continue
                if exc.code in (404, 410):  # the CRD went away (served() says so next), or list again
                    continue
                self._report("retrying", f"{exc}; retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.timing.backoff_max)

    async def _list(self, resource: ApiResource) -> str:
        self.state = "listing"
        doc = await self.client.get(resource.path(self.namespace))
        items = doc.get("items") or []
        self._warned = ""
        self.lists += 1
        self.sink.listed(self.spec, self.namespace, items, resource.api_version)
        self._synced()
        if self.state != "watching":
            log.info("%s: %d listed, watching", self.scope, len(items))
        return str((doc.get("metadata") or {}).get("resourceVersion", ""))

    async def _watch(self, resource: ApiResource, resource_version: str) -> None:
        """Watch from `resource_version` until the server says it is too old (then return, to
        list again); a watch the server ends in time is started again where it left off."""
        self.state = "watching"
        query = {"allowWatchBookmarks": "true", "timeoutSeconds": str(self.timing.watch_timeout)}
        while True:
            events = self.client.watch(resource.path(self.namespace),
                                       {**query, "resourceVersion": resource_version},
                                       timeout=self.timing.watch_timeout + 30)
            async for event in events:
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        log.info("%s: resourceVersion %s is too old (410 Gone): listing again",
                                 self.scope, resource_version)
                        return
                    raise ApiError(int(obj.get("code") or 0), str(obj.get("reason", "")),
                                   str(obj.get("message", "")))
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    resource_version = str(rv)
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self.sink.event(self.spec, kind, obj, resource.api_version)
