"""Fixed-window counters, as envoyproxy/ratelimit keeps them: a window is aligned to its unit on
the wall clock (a minute's window starts on the minute), so replicas sharing a store agree on it,
and a bucket's count starts again at zero when the next window begins.

`CounterStore` is what the service needs of a store. `MemoryCounterStore` keeps the counts in
this process: each meshgate replica counts alone, so with N replicas behind one Envoy fleet a
limit admits up to N times its requests. The shared store is `redis_counters.RedisCounterStore`
(as envoyproxy/ratelimit: INCRBY + EXPIRE in one pipeline), the same protocol over Redis. A store
that cannot count (its server unreachable) raises `StoreUnavailable`: the service answers that
request with an error, as envoyproxy/ratelimit does, and Envoy's failure mode decides.

Memory is bounded: a long bucket is kept as a digest, an expired window is dropped (a few per call, through a heap ordered by
expiry), and at `max_keys` live buckets the one whose window ends first is forgotten to make
room (it restarts at zero: under that pressure the limit fails open for one bucket rather than
memory growing with every distinct client an attacker can invent). Every loop has a bound.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]  # seconds since the epoch (time.time): windows align to the unit

# A bucket longer than this (characters, all parts) is kept as a digest: a Distinct header's value
# is the client's to choose, up to Envoy's header size limit (60 KiB), and max_keys of those
# would be gigabytes.
MAX_BUCKET_CHARS = 256

# Expired heap entries dropped per call at most; the heap is also rebuilt when stale entries
# outnumber live ones, so its size stays within 2 × max_keys + this.
SWEEP_BUDGET = 256


@dataclass(frozen=True, slots=True)
class Hit:
    """`amount` more requests in `bucket`, whose windows last `unit_s` seconds (0: only look)."""

    bucket: tuple[str, ...]
    unit_s: int
    amount: int = 1


@dataclass(frozen=True, slots=True)
class Window:
    """A bucket's count in its current window, after the hit, and the seconds left in it."""

    count: int
    reset_in_s: float


class StoreUnavailable(Exception):
    """The store cannot count now (its server unreachable, too slow): the request gets an error."""


class CounterStore(Protocol):
    """Where the counts live. Async so that a networked store (Redis) fits the same service."""

    async def increment(self, hits: Sequence[Hit]) -> list[Window]:
        """Add each hit to its bucket's current window; the windows after, in order. Raises
        StoreUnavailable when it cannot."""
        ...


@dataclass(slots=True)
class _Slot:
    window_start: float
    expires_at: float
    count: int


def compact_bucket(bucket: tuple[str, ...]) -> tuple[str, ...]:
    """`bucket`, or for a long one a digest of it (each part length-prefixed, so no two buckets
    give the same bytes; 128 bits, so no two give the same digest in practice)."""
    if sum(len(p) for p in bucket) <= MAX_BUCKET_CHARS:
        return bucket
    h = hashlib.blake2b(digest_size=16)
    for part in bucket:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return ("#digest", h.hexdigest())


class MemoryCounterStore:
    """Counts in a dict, one live window per (bucket, unit); see the module docstring."""

    def __init__(self, clock: Clock = time.time, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._clock = clock
        self._max_keys = max_keys
        self._slots: dict[tuple[int, tuple[str, ...]], _Slot] = {}
        # (expires_at, tie-breaker, slot key): a slot's entry goes stale when it moves to a new
        # window; stale entries are skipped when popped.
        self._heap: list[tuple[float, int, tuple[int, tuple[str, ...]]]] = []
        self._seq = itertools.count()
        self.evicted = 0  # live buckets forgotten to stay within max_keys

    def __len__(self) -> int:
        return len(self._slots)

    async def increment(self, hits: Sequence[Hit]) -> list[Window]:
        return self.increment_now(hits)

    def increment_now(self, hits: Sequence[Hit]) -> list[Window]:
        """increment, synchronously (nothing here waits)."""
        now = self._clock()
        self._sweep(now, SWEEP_BUDGET)
        out = []
        for hit in hits:
            if hit.unit_s < 1:
                raise ValueError(f"unit_s must be at least 1, not {hit.unit_s}")
            start = (now // hit.unit_s) * hit.unit_s
            end = start + hit.unit_s
            key = (hit.unit_s, compact_bucket(hit.bucket))
            slot = self._slots.get(key)
            if slot is None or slot.window_start != start:
                if slot is None:
                    self._make_room(now)
                slot = _Slot(start, end, 0)
                self._slots[key] = slot
                heapq.heappush(self._heap, (end, next(self._seq), key))
            slot.count += hit.amount
            out.append(Window(slot.count, end - now))
        if len(self._heap) > 2 * self._max_keys + SWEEP_BUDGET:
            self._rebuild()
        return out

    def _live(self, entry: tuple[float, int, tuple[int, tuple[str, ...]]]) -> bool:
        slot = self._slots.get(entry[2])
        return slot is not None and slot.expires_at == entry[0]

    def _sweep(self, now: float, budget: int) -> None:
        """Drop up to `budget` heap entries whose window has ended (their slot with them)."""
        for _ in range(budget):
            if not self._heap or self._heap[0][0] > now:
                return
            entry = heapq.heappop(self._heap)
            if self._live(entry):
                del self._slots[entry[2]]

    def _make_room(self, now: float) -> None:
        """Before a new bucket: at max_keys, forget the live bucket whose window ends first."""
        if len(self._slots) < self._max_keys:
            return
        self._sweep(now, len(self._heap))
        while len(self._slots) >= self._max_keys and self._heap:  # each turn pops one entry
            entry = heapq.heappop(self._heap)
            if self._live(entry):
                del self._slots[entry[2]]
                self.evicted += 1

    def _rebuild(self) -> None:
        """The heap from the live slots only (stale entries gone); O(max_keys)."""
        self._heap = [(s.expires_at, next(self._seq), k) for k, s in self._slots.items()]
        heapq.heapify(self._heap)
