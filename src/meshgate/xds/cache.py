"""The xDS cache: each proxy class's (gateway's) resources, and who to wake when they change.

Proxies of one gateway share one entry (the per-client contexts of later issues add keys of
their own, never one per connection). Updates replace only the resources whose bytes changed,
and report which types moved, so streams push just those.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from .resources import PUSH_ORDER, Resource, Resources, type_version


@dataclass(slots=True)
class Entry:
    """One proxy class's resources, per-type SotW versions, and a change counter."""

    resources: Resources = field(default_factory=lambda: {t: {} for t in PUSH_ORDER})
    versions: dict[str, str] = field(default_factory=dict)
    revision: int = 0


class SnapshotCache:
    """Resources per gateway; streams wait on `changed` and re-read what moved."""

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
            for t in PUSH_ORDER:
                e.versions[t] = type_version({})
        return e

    def update(self, gateway: str, type_url: str, resources: dict[str, Resource], replace: bool = True) -> bool:
        """Set a type's resources for a gateway; True when anything changed.

        With replace=False, `resources` are upserted and nothing is removed (the endpoint path).
        """
        e = self.entry(gateway)
        current = e.resources[type_url]
        if replace:
            if current.keys() == resources.keys() and all(current[n].version == r.version for n, r in resources.items()):
                return False
            e.resources[type_url] = dict(resources)
        else:
            moved = {n: r for n, r in resources.items() if n not in current or current[n].version != r.version}
            if not moved:
                return False
            current.update(moved)
        e.versions[type_url] = type_version(e.resources[type_url])
        e.revision += 1
        return True

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
