"""Virtual hosts kept across translations (gateway/virtual_host_memo.py): the same object while
its name, listener sources (by value) and routes (by identity) hold, a new one as soon as any of
them changes, and what a translation did not ask for is forgotten."""

from __future__ import annotations

from meshgate import ir
from meshgate.discovery.index import Discovery
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import translate_gateways
from meshgate.gateway.virtual_host_memo import VirtualHostMemo

from .test_policy_attachment import NOW, _store


def _source(listener: str = "http") -> tuple[ir.SourceRef, ...]:
    return (ir.SourceRef("Gateway", "gateway.networking.k8s.io/v1", "gw", "web", listener),)


def _route(path: str) -> ir.Route:
    return ir.Route(f"r{path}", ir.RouteMatch("prefix", path))


def test_the_same_parts_give_the_same_host_and_any_change_a_new_one() -> None:
    memo = VirtualHostMemo()
    a, b = _route("/a"), _route("/b")
    sources = memo.sources(_source())
    first = memo.host("http/a.example", ("a.example",), (a, b), sources)
    memo.sweep()
    # The listener's sources are built anew each translation: equal ones map to the first tuple.
    again = memo.sources(_source())
    assert again is sources
    assert memo.host("http/a.example", ("a.example",), (a, b), again) is first
    # An equal but new route object is a change (routes are kept by identity).
    changed = memo.host("http/a.example", ("a.example",), (a, _route("/b")), again)
    assert changed is not first and changed == first
    assert memo.host("http/a.example", ("a.example",), (b, a), again) is not first
    other = memo.sources(_source("https"))
    assert other is not sources
    assert memo.host("http/a.example", ("a.example",), (a, b), other).sources is other


def test_a_sweep_forgets_what_the_translation_did_not_ask_for() -> None:
    memo = VirtualHostMemo()
    a = _route("/a")
    sources = memo.sources(_source())
    kept = memo.host("http/a.example", ("a.example",), (a,), sources)
    gone = memo.host("http/b.example", ("b.example",), (a,), sources)
    memo.sweep()
    assert memo.host("http/a.example", ("a.example",), (a,), memo.sources(_source())) is kept
    memo.sweep()
    memo.sweep()  # b was not asked for in the last two translations
    assert memo.host("http/b.example", ("b.example",), (a,), memo.sources(_source())) is not gone


def test_translations_over_one_table_hand_out_the_same_hosts_and_equal_a_fresh_one() -> None:
    store = _store()
    table = RouteTable(store, Discovery(store))
    first = translate_gateways(store, Discovery(store), NOW, table=table)
    second = translate_gateways(store, Discovery(store), NOW, table=table)
    before = [vh for rc in first.gateways[0].route_configs for vh in rc.virtual_hosts]
    after = [vh for rc in second.gateways[0].route_configs for vh in rc.virtual_hosts]
    assert before and all(x is y for x, y in zip(before, after, strict=True))
    assert translate_gateways(store, Discovery(store), NOW).gateways == second.gateways
