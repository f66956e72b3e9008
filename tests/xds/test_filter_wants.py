"""What optional HTTP filters a virtual host's routes want, kept per virtual host object
(xds/http_filters.FilterWants): the same answer as working it out afresh, and a new virtual host
is looked at again."""

from __future__ import annotations

from meshgate import ir
from meshgate.xds.http_filters import FilterWants, http_filter_entries


def _host(name: str, *routes: ir.Route) -> ir.VirtualHost:
    return ir.VirtualHost(name, (name,), routes)


def _faulty(path: str) -> ir.Route:
    return ir.Route(f"r{path}", ir.RouteMatch("prefix", path),
                    fault=ir.FaultInjection(abort_status=503, abort_percent=1.0))


def test_kept_answers_equal_fresh_ones_and_a_new_host_is_looked_at_again() -> None:
    plain = _host("a.example", ir.Route("plain", ir.RouteMatch("prefix", "/")))
    faulty = _host("b.example", _faulty("/b"))
    cfg = ir.RouteConfig("http", (plain, faulty))
    wants = FilterWants()
    fresh = http_filter_entries(cfg)
    assert [f.name for f in fresh] == ["envoy.filters.http.fault"]
    assert http_filter_entries(cfg, wants) == fresh
    assert wants.of(faulty) is wants.of(faulty)  # kept, not worked out again
    wants.sweep()
    assert http_filter_entries(cfg, wants) == fresh
    # The same name, a new object: what it wants now counts.
    plain_again = _host("b.example", ir.Route("plain", ir.RouteMatch("prefix", "/")))
    assert http_filter_entries(ir.RouteConfig("http", (plain, plain_again)), wants) == ()
