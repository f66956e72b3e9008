"""The leader's loops: work in rounds, when woken and at least every so often, never more
often than an interval (so that a burst of changes is one round, not one per change)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def in_rounds(wake: asyncio.Event, active: Callable[[], bool], work: Callable[[], Awaitable[None]],
                    interval: float, every: Callable[[], float]) -> None:
    """Until cancelled: wait for `wake` (or `every()` seconds), then, while `active()`, do one
    round of `work`, then rest `interval` seconds (what wakes meanwhile waits for the next round)."""
    while True:
        try:
            await asyncio.wait_for(wake.wait(), timeout=every())
        except TimeoutError:
            pass
        wake.clear()
        if active():
            await work()
        await asyncio.sleep(interval)
