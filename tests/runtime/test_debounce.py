"""The adaptive debounce: a lone change is applied at once, a burst is applied together."""

from __future__ import annotations

import asyncio

from meshgate.runtime.controller import ControlPlane
from meshgate.xds.cache import SnapshotCache

from .incremental_scenario import SLOTS, WorldProvider, change

START = {slot: 0 for slot in SLOTS}


async def _turns(cp: ControlPlane, kind: str, name: str, present: bool, limit: int = 20) -> int:
    """Loop turns (bounded) until the object's presence in the store is `present`."""
    for turn in range(limit):
        if (cp.store.get(kind, "app", name) is not None) == present:
            return turn
        await asyncio.sleep(0)
    return limit


def test_a_lone_change_is_applied_without_waiting() -> None:
    async def body() -> int:
        cp = ControlPlane(WorldProvider(START), SnapshotCache())
        cp.load()
        cp.submit(change("route-2", 0, 3))  # r2 goes
        return await _turns(cp, "HTTPRoute", "r2", False)
    # Within a few loop turns, not after the DEBOUNCE_S timer (no time passes in these turns).
    assert asyncio.run(body()) < 20


def test_a_burst_is_applied_together() -> None:
    async def body() -> tuple[list[str], bool]:
        cp = ControlPlane(WorldProvider(START), SnapshotCache())
        cp.load()
        paths: list[str] = []
        apply = cp.apply

        def counting(changes, force_full=False):  # type: ignore[no-untyped-def]
            paths.append(apply(changes, force_full))
            return paths[-1]
        cp.apply = counting  # type: ignore[method-assign]
        cp.submit(change("route-2", 0, 3))
        cp.submit(change("route-1", 0, 3))  # in the same turn: a burst
        lone_turns = await _turns(cp, "HTTPRoute", "r2", False)
        for _ in range(200):  # bounded: the batch lands DEBOUNCE_S later
            if cp.store.get("HTTPRoute", "app", "r1") is None:
                break
            await asyncio.sleep(0.01)
        return paths, lone_turns == 20 and cp.store.get("HTTPRoute", "app", "r1") is None
    paths, batched = asyncio.run(body())
    assert batched, "the burst was not held back and applied together"
    assert len(paths) == 1


def test_the_loop_runs_while_a_change_set_is_applied() -> None:
    """Translation runs in a worker thread: the event loop keeps turning (ACKs, pushes, the debug
    endpoint) until the commit, and the cache is written only then."""
    async def body() -> tuple[int, bool, bool]:
        cp = ControlPlane(WorldProvider(START), SnapshotCache())
        cp.load()
        before = cp.cache.entry("gw/web").revision
        cp.submit(change("route-1", 0, 1))
        for _ in range(1000):  # bounded: until the flush has started
            if cp.applying:
                break
            await asyncio.sleep(0)
        started = cp.applying
        turns, unchanged = 0, True
        for _ in range(100_000):  # bounded: until the commit
            if not cp.applying:
                break
            unchanged = unchanged and cp.cache.entry("gw/web").revision == before
            turns += 1
            await asyncio.sleep(0)
        await cp.ready()
        return turns, started and unchanged, cp.cache.entry("gw/web").revision != before
    turns, quiet_until_commit, committed = asyncio.run(body())
    assert turns > 0, "the event loop did not run while the change set was applied"
    assert quiet_until_commit and committed
