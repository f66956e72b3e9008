"""The xDS cache: each proxy class's (gateway's) resources, and who to wake when they change.

Proxies of one gateway share one entry (the per-client contexts of later issues add keys of
their own, never one per connection). Updates replace only the resources whose bytes changed,
and remember when each name last changed, so a push looks only at what moved since the
stream's last one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from .resources import PUSH_ORDER, Resource, Resources, type_version


@dataclass(slots=True)
class Entry:
    """One proxy class's resources, with change bookkeeping per type and per name."""

    resources: Resources = field(default_factory=lambda: {t: {} for t in PUSH_ORDER})
    revision: int = 0  # bumps on every change of any type
    type_revision: dict[str, int] = field(default_factory=lambda: {t: 0 for t in PUSH_ORDER})
    changed_at: dict[str, dict[str, int]] = field(default_factory=lambda: {t: {} for t in PUSH_ORDER})
    _versions: dict[str, str] = field(default_factory=dict)  # SotW versions, computed on demand

    def version(self, type_url: str) -> str:
        """The State-of-the-World version of a whole type (a hash of names and versions)."""
        v = self._versions.get(type_url)
        if v is None:
            v = self._versions[type_url] = type_version(self.resources[type_url])
        return v

    def changed_since(self, type_url: str, revision: int) -> list[str]:
        """Names of a type added, changed or removed after `revision`."""
        if self.type_revision[type_url] <= revision:
            return []
        return [n for n, r in self.changed_at[type_url].items() if r > revision]

    def _touch(self, type_url: str, names: Iterable[str]) -> None:
        self.revision += 1
        self.type_revision[type_url] = self.revision
        stamps = self.changed_at[type_url]
        for n in names:
            stamps[n] = self.revision
        self._versions.pop(type_url, None)


class SnapshotCache:
    """Resources per gateway; streams wait on a condition and re-read what moved."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._changed = asyncio.Condition()

    def gateways(self) -> list[str]:
        """The gateways that have an entry."""
        return sorted(self._entries)

    def entry(self, gateway: str) -> Entry:
        """The entry of a gateway (an empty one when it has none yet)."""
        e = self._entries.get(gateway)
        if e is None:
            e = self._entries[gateway] = Entry()
        return e

    def update(self, gateway: str, type_url: str, resources: dict[str, Resource], replace: bool = True) -> bool:
        """Set a type's resources for a gateway; True when anything changed.

        With replace=False, `resources` are upserted and nothing is removed (the endpoint path).
        """
        e = self.entry(gateway)
        current = e.resources[type_url]
        moved = [n for n, r in resources.items() if n not in current or current[n].version != r.version]
        removed = [n for n in current if n not in resources] if replace else []
        if not moved and not removed:
            return False
        for n in moved:
            current[n] = resources[n]
        for n in removed:
            del current[n]
        e._touch(type_url, moved + removed)
        return True

    def touch(self, key: str) -> None:
        """Wake the streams of an entry without changing it (their view may have moved elsewhere)."""
        self.entry(key).revision += 1

    def set_all(self, gateway: str, resources: Resources) -> list[str]:
        """Replace every type of a gateway; the types that changed, in push order."""
        return [t for t in PUSH_ORDER if self.update(gateway, t, resources.get(t, {}))]

    def remove_gateways(self, keep: Iterable[str]) -> list[str]:
        """Empty the entries of gateways not in `keep` (their proxies get empty config)."""
        keep = set(keep)
        gone = [g for g in self._entries if g not in keep]
        for g in gone:
            for t in PUSH_ORDER:
                self.update(g, t, {})
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
