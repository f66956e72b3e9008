"""Fixed-window counters in memory (ratelimit/counters.py), on a fake clock: windows aligned to
the unit, a new window starting from zero, expired windows dropped, and memory bounded."""

from __future__ import annotations

import asyncio

import pytest

from meshgate.ratelimit.counters import SWEEP_BUDGET, CounterStore, Hit, MemoryCounterStore, Window


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_counts_within_a_window_and_restarts_at_the_next() -> None:
    clock = FakeClock(999_980.0)  # 20 s into a minute (999_960 = 60 × 16_666)
    store = MemoryCounterStore(clock)
    assert store.increment_now([Hit(("b",), 60)]) == [Window(1, 40.0)]
    clock.now += 39.5
    assert store.increment_now([Hit(("b",), 60, 2)]) == [Window(3, 0.5)]
    clock.now += 0.5  # on the minute: a new window
    assert store.increment_now([Hit(("b",), 60)]) == [Window(1, 60.0)]


def test_windows_are_aligned_to_the_unit_not_to_the_first_hit() -> None:
    clock = FakeClock(3599.0)
    store = MemoryCounterStore(clock)
    assert store.increment_now([Hit(("b",), 3600)])[0].reset_in_s == 1.0
    clock.now = 3600.0
    assert store.increment_now([Hit(("b",), 3600)])[0] == Window(1, 3600.0)


def test_buckets_and_units_count_apart_and_zero_only_looks() -> None:
    store = MemoryCounterStore(FakeClock(0.0))
    out = store.increment_now([Hit(("a",), 1), Hit(("a",), 60), Hit(("b",), 1), Hit(("a",), 1)])
    assert [w.count for w in out] == [1, 1, 1, 2]
    assert store.increment_now([Hit(("a",), 1, 0)])[0].count == 2


def test_expired_windows_are_dropped() -> None:
    clock = FakeClock(0.0)
    store = MemoryCounterStore(clock)
    store.increment_now([Hit((str(i),), 10) for i in range(50)])
    assert len(store) == 50
    clock.now = 10.0
    store.increment_now([Hit(("new",), 10)])
    assert len(store) == 1


def test_memory_stays_bounded_under_many_distinct_buckets() -> None:
    clock = FakeClock(0.0)
    store = MemoryCounterStore(clock, max_keys=10)
    for i in range(1000):
        store.increment_now([Hit((f"client-{i}",), 3600)])
        assert len(store) <= 10
    assert store.evicted == 990
    # The bucket forgotten is the one ending first; the latest ones keep counting.
    assert store.increment_now([Hit(("client-999",), 3600)])[0].count == 2


def test_heap_stays_bounded_when_buckets_roll_over() -> None:
    clock = FakeClock(0.0)
    store = MemoryCounterStore(clock, max_keys=4)
    for step in range(2000):  # the same few buckets, a new window each second
        clock.now = float(step)
        store.increment_now([Hit((str(step % 3),), 1)])
        assert len(store) <= 4
        assert len(store._heap) <= 2 * 4 + SWEEP_BUDGET + 1


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        MemoryCounterStore(max_keys=0)
    with pytest.raises(ValueError):
        MemoryCounterStore(FakeClock(0.0)).increment_now([Hit(("a",), 0)])


def test_async_protocol() -> None:
    store: CounterStore = MemoryCounterStore(FakeClock(5.0))
    assert asyncio.run(store.increment([Hit(("a",), 10)])) == [Window(1, 5.0)]


def test_long_buckets_are_kept_short_and_still_apart() -> None:
    store = MemoryCounterStore(FakeClock(0.0))
    big_a, big_b = ("d", "x" * 60_000 + "a"), ("d", "x" * 60_000 + "b")
    assert [w.count for w in store.increment_now([Hit(big_a, 60), Hit(big_b, 60), Hit(big_a, 60)])] == [1, 1, 2]
    assert all(sum(map(len, bucket)) < 100 for _, bucket in store._slots)
    # Parts are length-prefixed in the digest: moving a boundary gives another bucket.
    long = "y" * 300
    assert [w.count for w in store.increment_now([Hit((long, "z"), 60), Hit((long + "z", ""), 60)])] == [1, 1]
