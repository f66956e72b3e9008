"""The xDS cache: each proxy class's (gateway's) resources, and who to wake when they change.

Proxies of one gateway share one entry (per-client contexts add keys of their own, never one
per connection). Updates replace only the resources whose bytes changed, and remember when each
name last changed, so a push looks only at what moved since the stream's last one. A Cluster
that changes counts as a change of its ClusterLoadAssignment too: Envoy warms an updated cluster
until it receives its assignment again, so the server sends it after the Cluster (server.py).

Entries live as long as someone needs them: the controller owns the entries it publishes (a
Gateway's, a live context's), and the server holds the key of every open stream. An entry that
is neither owned nor held is dropped, so a stream asking for a Gateway that does not exist, or
one that vanished, leaves nothing behind once it closes. Reading a key that has no entry gives
an empty entry without storing it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .resources import CLUSTER, ENDPOINT, PUSH_ORDER, Resource, Resources, type_version

CHANGELOG = 32  # changes per type remembered as a list (older ones: scan every name)
STAMPS = 64  # revisions whose change time is remembered (for the convergence histogram)


@dataclass(slots=True)
class Entry:
    """One proxy class's resources, with change bookkeeping per type and per name."""

    resources: Resources = field(default_factory=lambda: {t: {} for t in PUSH_ORDER})
    revision: int = 0  # bumps on every change of any type
    type_revision: dict[str, int] = field(default_factory=lambda: {t: 0 for t in PUSH_ORDER})
    changed_at: dict[str, dict[str, int]] = field(default_factory=lambda: {t: {} for t in PUSH_ORDER})
    # The latest changes per type, newest last: (revision, names). A stream that is a few
    # changes behind reads what moved from here instead of scanning every name of the type.
    changelog: dict[str, deque[tuple[int, tuple[str, ...]]]] = field(
        default_factory=lambda: {t: deque(maxlen=CHANGELOG) for t in PUSH_ORDER})
    # When the change behind each recent revision reached meshgate (monotonic seconds), oldest first.
    stamps: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=STAMPS))
    _versions: dict[str, str] = field(default_factory=dict)  # SotW versions, computed on demand
    _frozen: dict[str, Mapping[str, Resource]] = field(default_factory=dict)  # read-only copies, on demand

    def version(self, type_url: str) -> str:
        """The State-of-the-World version of a whole type (a hash of names and versions)."""
        v = self._versions.get(type_url)
        if v is None:
            v = self._versions[type_url] = type_version(self.resources[type_url])
        return v

    def frozen(self, type_url: str) -> Mapping[str, Resource]:
        """A type's resources as they are now, in a read-only copy that later updates leave
        alone (State-of-the-World streams keep what they sent; copied once per change)."""
        m = self._frozen.get(type_url)
        if m is None:
            m = self._frozen[type_url] = MappingProxyType(dict(self.resources[type_url]))
        return m

    def changed_since(self, type_url: str, revision: int) -> list[str]:
        """Names of a type added, changed or removed after `revision`."""
        if self.type_revision[type_url] <= revision:
            return []
        log = self.changelog[type_url]
        if log and log[0][0] <= revision:
            # The log reaches back far enough: only the changes after `revision`, newest first.
            names: dict[str, None] = {}
            for rev, changed in reversed(log):
                if rev <= revision:
                    break
                names.update(dict.fromkeys(changed))
            return list(names)
        return [n for n, r in self.changed_at[type_url].items() if r > revision]

    def changed_time_after(self, revision: int) -> float | None:
        """When the oldest change after `revision` reached meshgate (the oldest remembered, when
        more changes came since); None when no change came after it."""
        for rev, when in self.stamps:
            if rev > revision:
                return when
        return None

    def _touch(self, type_url: str, names: Iterable[str], when: float) -> None:
        self.revision += 1
        if not self.stamps or self.stamps[-1][1] != when:
            self.stamps.append((self.revision, when))
        self.type_revision[type_url] = self.revision
        stamps = self.changed_at[type_url]
        names = tuple(names)
        for n in names:
            stamps[n] = self.revision
        self.changelog[type_url].append((self.revision, names))
        self._versions.pop(type_url, None)
        self._frozen.pop(type_url, None)


class SnapshotCache:
    """Resources per gateway; streams wait on a condition and re-read what moved."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._owned: set[str] = set()  # keys the controller published and has not removed
        self._holders: dict[str, int] = {}  # key → open streams served from it
        # Revisions of dropped entries: a key's new entry counts on from there, so that a
        # revision a stream remembers is never reused for different content.
        self._retired_revision = 0
        self._changed = asyncio.Condition()
        # When the change being written reached meshgate (monotonic seconds; the controller sets
        # it around its writes); None: now.
        self.change_received: float | None = None

    def gateways(self) -> list[str]:
        """The gateways that have an entry."""
        return sorted(self._entries)

    def entry(self, gateway: str) -> Entry:
        """The entry of a gateway (an empty one, not stored, when it has none)."""
        e = self._entries.get(gateway)
        return e if e is not None else Entry()

    def _stored(self, key: str) -> Entry:
        e = self._entries.get(key)
        if e is None:
            e = self._entries[key] = Entry(revision=self._retired_revision)
        return e

    def _drop_if_unused(self, key: str) -> None:
        if key in self._owned or self._holders.get(key):
            return
        e = self._entries.pop(key, None)
        if e is not None:
            self._retired_revision = max(self._retired_revision, e.revision)

    def hold(self, key: str) -> None:
        """A stream is served from `key`: keep its entry while it is open."""
        self._holders[key] = self._holders.get(key, 0) + 1

    def release(self, key: str) -> bool:
        """A stream no longer uses `key`; True when it was the last. The entry is dropped then,
        unless the controller owns it."""
        left = self._holders.get(key, 0) - 1
        if left > 0:
            self._holders[key] = left
            return False
        self._holders.pop(key, None)
        self._drop_if_unused(key)
        return True

    def held(self, key: str) -> int:
        """How many open streams are served from `key`."""
        return self._holders.get(key, 0)

    def drop(self, key: str) -> None:
        """The controller no longer publishes `key` (a context nobody uses): drop its entry once
        no stream holds it."""
        self._owned.discard(key)
        self._drop_if_unused(key)

    def update(self, gateway: str, type_url: str, resources: dict[str, Resource], replace: bool = True) -> bool:
        """Set a type's resources for a gateway; True when anything changed.

        With replace=False, `resources` are upserted and nothing is removed (the endpoint path).
        The key is owned from now on (until `drop` or `remove_gateways`).
        """
        self._owned.add(gateway)
        e = self._stored(gateway)
        current = e.resources[type_url]
        moved = [n for n, r in resources.items() if n not in current or current[n].version != r.version]
        removed = [n for n in current if n not in resources] if replace else []
        if not moved and not removed:
            return False
        changed = [n for n in moved if n in current]  # changed, not added
        for n in moved:
            current[n] = resources[n]
        for n in removed:
            del current[n]
        when = self.change_received if self.change_received is not None else time.monotonic()
        e._touch(type_url, moved + removed, when)
        if type_url == CLUSTER:
            # An updated Cluster is sent its assignment again (Envoy's warming): say so here too.
            followed = [n for n in changed if n in e.resources[ENDPOINT]]
            if followed:
                e._touch(ENDPOINT, followed, when)
        return True

    def touch(self, key: str) -> None:
        """Wake the streams of an entry without changing it (their view may have moved elsewhere)."""
        e = self._entries.get(key)
        if e is not None:
            e.revision += 1

    def set_all(self, gateway: str, resources: Resources) -> list[str]:
        """Replace every type of a gateway; the types that changed, in push order."""
        return [t for t in PUSH_ORDER if self.update(gateway, t, resources.get(t, {}))]

    def remove_gateways(self, keep: Iterable[str]) -> list[str]:
        """Empty the entries of gateways not in `keep` (their proxies get empty config); those
        no stream holds are dropped."""
        keep = set(keep)
        gone = [g for g in self._entries if g not in keep]
        for g in gone:
            for t in PUSH_ORDER:
                self.update(g, t, {})
            self._owned.discard(g)
            self._drop_if_unused(g)
        return gone

    async def notify(self) -> None:
        """Wake every stream waiting for a change."""
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, gateway: str, seen_revision: int, timeout: float | None = None) -> bool:
        """Wait until the gateway's revision passes `seen_revision`; False on timeout."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.entry(gateway).revision != seen_revision), timeout)
            except TimeoutError:
                return False
        return True
