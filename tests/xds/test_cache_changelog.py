"""Entry.changed_since reads recent changes from the change log: the same names a scan of every
name's last change gives, for any revision a stream may hold."""

from __future__ import annotations

from envoy.config.route.v3 import route_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from meshgate.xds.cache import CHANGELOG, SnapshotCache
from meshgate.xds.resources import ROUTE, make_resource

NAMES = [f"r{i}" for i in range(6)]


def _resources(versions: dict[str, int]) -> dict:
    return {n: make_resource(ROUTE, n, route_pb2.RouteConfiguration(name=n, virtual_hosts=[], request_headers_to_remove=[str(v)]))
            for n, v in versions.items()}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(NAMES), st.integers(0, 3)), min_size=1, max_size=CHANGELOG * 2))
def test_changed_since_equals_a_scan_of_every_name(steps: list[dict[str, int]]) -> None:
    cache = SnapshotCache()
    revisions = [0]
    for versions in steps:
        cache.update("gw", ROUTE, _resources(versions))
        revisions.append(cache.entry("gw").revision)
    entry = cache.entry("gw")
    for revision in revisions:
        scanned = {n for n, r in entry.changed_at[ROUTE].items() if r > revision}
        assert set(entry.changed_since(ROUTE, revision)) == scanned
