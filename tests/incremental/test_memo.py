"""The incremental core's parts: reads a change affects, memos that forget exactly their dependents."""

from __future__ import annotations

from meshgate.incremental.memo import Memo
from meshgate.incremental.reads import Recorder, TrackedStore, changed_reads, host_lookups
from meshgate.resources.meta import ObjectKey
from meshgate.store import Store

from ..runtime.incremental_scenario import objects


def test_a_memo_hit_counts_as_its_reads_for_the_caller() -> None:
    rec = Recorder()
    inner: Memo[str, int] = Memo(rec)
    outer: Memo[str, int] = Memo(rec)
    calls = []

    def inner_value() -> int:
        rec.read(("obj", "Service", "ns", "a"))
        calls.append("inner")
        return 1

    inner.get("a", inner_value)  # computed first, outside any frame
    assert outer.get("x", lambda: inner.get("a", inner_value) + 1) == 2
    assert calls == ["inner"]  # a hit
    assert set(outer.reads("x")) == {("obj", "Service", "ns", "a")}
    assert outer.invalidate({("obj", "Service", "ns", "a")}) == ["x"]
    assert len(outer) == 0


def test_none_results_are_remembered_and_forgotten() -> None:
    rec = Recorder()
    memo: Memo[str, None] = Memo(rec)
    calls = []

    def absent() -> None:
        rec.read(("obj", "Service", "ns", "gone"))
        calls.append(1)

    memo.get("k", absent)
    memo.get("k", absent)
    assert calls == [1]
    assert memo.invalidate({("obj", "Service", "ns", "other")}) == []
    assert memo.invalidate({("obj", "Service", "ns", "gone")}) == ["k"]
    memo.get("k", absent)
    assert calls == [1, 1]


def test_tracked_store_records_each_kind_of_read() -> None:
    store = Store()
    rec = Recorder()
    tracked = TrackedStore(store, rec)
    with rec.frame() as reads:
        tracked.get("Service", "ns", "a")
        tracked.list("Node")
        tracked.in_namespace("Pod", "ns")
        tracked.endpoint_slices("ns", "a")
    assert reads == {("obj", "Service", "ns", "a"), ("kind", "Node"), ("ns", "Pod", "ns"), ("slices", "ns", "a")}
    tracked.get("Service", "ns", "b")  # outside a frame: not recorded anywhere
    assert ("obj", "Service", "ns", "b") not in reads


def test_changed_reads_name_the_slices_service_before_and_after() -> None:
    (slice_b,) = objects("slice-b", 0)
    key = ObjectKey.of(slice_b)
    reads = changed_reads(key, slice_b, None)
    assert ("slices", "app", "b") in reads
    assert {("obj", "EndpointSlice", "app", "b-1"), ("ns", "EndpointSlice", "app"), ("kind", "EndpointSlice")} <= reads


def test_changed_reads_name_a_rules_old_and_new_host() -> None:
    (short,) = objects("dr-a", 0)  # host "a": a Service of the rule's namespace
    (wild,) = objects("dr-wild", 1)
    reads = changed_reads(ObjectKey.of(short), short, wild)
    assert ("dr-host", "a.app.svc.cluster.local") in reads
    assert ("dr-host", "*.example.com") in reads


def test_host_lookups_cover_every_rule_host_that_can_match() -> None:
    assert host_lookups("a.b.example.com") == ["a.b.example.com", "*", "*.b.example.com", "*.example.com", "*.com"]


def test_a_read_shared_by_several_results_invalidates_each_until_they_are_dropped() -> None:
    rec = Recorder()
    memo: Memo[str, int] = Memo(rec)
    shared, own = ("kind", "Node"), ("obj", "Service", "ns", "a")

    def reading(*reads: tuple) -> int:
        for r in reads:
            rec.read(r)
        return 1
    memo.get("a", lambda: reading(shared, own))
    memo.get("b", lambda: reading(shared))
    memo.get("c", lambda: reading(shared))
    memo.drop("b")
    assert sorted(memo.invalidate([shared])) == ["a", "c"]
    assert memo.invalidate([own]) == [] and len(memo) == 0
    memo.get("a", lambda: reading(own))
    memo.get("a2", lambda: reading(own))
    memo.drop("a")
    assert memo.invalidate([own]) == ["a2"]
