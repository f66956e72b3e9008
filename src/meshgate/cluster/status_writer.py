"""Status write-back: what the translation says of each object we own, written through its
status subresource when it differs from what the API server holds.

- Only what changed is written: the status we would write is compared with the object's
  current status as the watch last delivered it, so an unchanged status costs no request, and a
  replica that becomes leader writes only what the last leader left different.
- A condition keeps the lastTransitionTime the API server holds while its status holds (also
  across leaders and restarts: no flapping).
- A route's `status.parents` and a policy's `status.ancestors` keep the entries of other
  controllers; ours replace ours.
- Writes are batched and rate-limited: a round starts at most every `interval` seconds and makes
  at most `concurrency` requests at once. A merge patch carries the resourceVersion it was
  computed from, so a write over a newer version is refused (409) and retried from that one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..gateway.status_times import keep_object_times
from ..naming import CONTROLLER_NAME
from ..providers.kubernetes.client import MERGE_PATCH, ApiError, KubeClient
from ..providers.kubernetes.kinds import ApiResource
from ..resources.meta import ObjectKey
from .rounds import in_rounds

log = logging.getLogger("meshgate.kubernetes.status")


def now_rfc3339() -> str:
    """Now, as conditions spell it (UTC, second precision)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _times(status: dict) -> dict[tuple, str]:
    """(where, condition type) → lastTransitionTime, for every condition in a status."""
    out: dict[tuple, str] = {}
    for c in status.get("conditions") or []:
        out[("", c.get("type"))] = c.get("lastTransitionTime", "")
    for ls in status.get("listeners") or []:
        for c in ls.get("conditions") or []:
            out[("listener", ls.get("name"), c.get("type"))] = c.get("lastTransitionTime", "")
    return out


def _not_before(ours: dict, current: dict, now: str) -> dict:
    """Ours, with a transition that would go back in time (a condition that changed in the API
    after the time ours carries, such as an overlay's) stamped `now` instead."""
    before = _times(current)
    if not before:
        return ours

    def fix(conds: list[dict], where: tuple) -> list[dict]:
        return [{**c, "lastTransitionTime": now} if before.get((*where, c.get("type")), "") > c.get(
            "lastTransitionTime", "") else c for c in conds]

    out = dict(ours)
    if "conditions" in ours:
        out["conditions"] = fix(ours["conditions"], ("",))
    if "listeners" in ours:
        out["listeners"] = [{**ls, "conditions": fix(ls.get("conditions") or [], ("listener", ls.get("name")))}
                            for ls in ours["listeners"]]
    return out


def desired_status(ours: dict, current: dict | None, now: str = "") -> dict:
    """The status to write over an object whose status is now `current`: ours, with the API's
    transition times kept where a condition's status held (and none going back in time, when
    `now` is given), and other controllers' parents kept."""
    if current:
        ours = keep_object_times({"status": current}, {"status": ours})["status"]
        if now:
            ours = _not_before(ours, current, now)
    for key in ("parents", "ancestors"):  # a route's parents, a policy's ancestors
        if key in ours:
            others = [p for p in (current or {}).get(key) or [] if p.get("controllerName") != CONTROLLER_NAME]
            ours = {**ours, key: others + list(ours[key])}
    return ours


@dataclass
class WriteCounts:
    """What the writer did, for metrics and benchmarks."""

    writes: int = 0
    conflicts: int = 0
    failures: int = 0
    rounds: int = 0


@dataclass
class StatusWriter:
    """Writes status while `active` (the leader); see the module docstring."""

    client: KubeClient
    statuses: Callable[[], list[dict]]  # the status objects to hold (the control plane's, with proxies' answers)
    raw: Callable[[ObjectKey], dict | None]  # the object as last watched
    resource: Callable[[str], ApiResource | None]  # where a kind is served
    clock: Callable[[], str] = now_rfc3339
    on_write: Callable[[str], None] | None = None  # each write's result: "written", "conflict" or "failed"
    interval: float = 0.2
    concurrency: int = 8
    active: bool = False
    counts: WriteCounts = field(default_factory=WriteCounts)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    # key → (our status object, the resourceVersion it was found equal at): skipped while both hold
    _checked: dict[ObjectKey, tuple[dict, str]] = field(default_factory=dict)
    # key → (the resourceVersion written over, what was written): not written again until the watch moves
    _written: dict[ObjectKey, tuple[str, dict]] = field(default_factory=dict)

    def _tell(self, result: str) -> None:
        if self.on_write is not None:
            self.on_write(result)

    def wake(self) -> None:
        """Something may have changed: status, a proxy's answer, or an object we write to."""
        self._wake.set()

    async def run(self, resync: float = 5.0) -> None:
        """Write rounds until cancelled: when woken (at most every `interval`), and every
        `resync` seconds (a proxy's answer moves without waking anyone)."""
        async def write() -> None:
            await self.write_round()

        await in_rounds(self._wake, lambda: self.active, write, self.interval, lambda: resync)

    def pending(self) -> list[tuple[ObjectKey, ApiResource, dict, dict, str]]:
        """The writes a round would make: (key, resource, object as watched, status to write,
        its resourceVersion)."""
        out = []
        seen = set()
        for obj in self.statuses():
            md = obj.get("metadata", {})
            key = ObjectKey(obj.get("kind", ""), md.get("namespace", ""), md.get("name", ""))
            seen.add(key)
            resource = self.resource(key.kind)
            current = self.raw(key)
            if resource is None or current is None:
                continue  # not in the API (yet): nothing to write to
            rv = current.get("metadata", {}).get("resourceVersion", "")
            checked = self._checked.get(key)
            if checked is not None and checked[0] is obj and checked[1] == rv:
                continue  # the same status against the same version: found equal before
            have = current.get("status") or {}
            want = desired_status(obj.get("status") or {}, have, self.clock())
            if want == have:
                self._checked[key] = (obj, rv)
            elif self._written.get(key) != (rv, want):
                out.append((key, resource, current, want, rv))
        for gone in [k for k in self._checked if k not in seen]:
            del self._checked[gone]
        for gone in [k for k in self._written if k not in seen]:
            del self._written[gone]
        return out

    async def write_round(self) -> int:
        """Write every status that differs; returns how many writes were made."""
        self.counts.rounds += 1
        todo = self.pending()
        if not todo:
            return 0
        limit = asyncio.Semaphore(self.concurrency)

        async def write(key: ObjectKey, resource: ApiResource, current: dict, want: dict, rv: str) -> None:
            md = current.get("metadata", {})
            path = resource.path(md.get("namespace", ""), md["name"]) + "/status"
            async with limit:
                try:
                    await self.client.send("PATCH", path, {"metadata": {"resourceVersion": rv}, "status": want},
                                           MERGE_PATCH)
                    self.counts.writes += 1
                    self._written[key] = (rv, want)
                    self._tell("written")
                except ApiError as exc:
                    if exc.code == 409:  # a newer version is on its way through the watch
                        self.counts.conflicts += 1
                        self._tell("conflict")
                        self.wake()
                    elif exc.code == 404:
                        pass  # deleted meanwhile
                    else:
                        self.counts.failures += 1
                        self._tell("failed")
                        log.warning("writing status of %s: %s (tried again within the resync period)", key, exc)

        await asyncio.gather(*(write(*t) for t in todo))
        return len(todo)
