"""The bookkeeping behind make-before-break (server.py): which clusters served routes and
listeners name, and what a stream remembers of the responses its proxy has not answered; bounded."""

from __future__ import annotations

from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2

from meshgate.xds.common import to_any
from meshgate.xds.references import ClusterRefs, cluster_refs
from meshgate.xds.resources import CLUSTER, LISTENER, ROUTE, make_resource
from meshgate.xds.streams import MAX_UNANSWERED, TypeState


def _route(name: str, *clusters: str) -> route_pb2.RouteConfiguration:
    rc = route_pb2.RouteConfiguration(name=name)
    vh = rc.virtual_hosts.add(name="vh", domains=["*"])
    vh.routes.add().route.cluster = clusters[0]
    weighted = vh.routes.add().route.weighted_clusters
    for c in clusters[1:]:
        weighted.clusters.add(name=c)
    mirrored = vh.routes.add().route
    mirrored.cluster = clusters[0]
    mirrored.request_mirror_policies.add(cluster="mirror")
    vh.routes.add().redirect.host_redirect = "elsewhere"
    return rc


def test_cluster_refs_read_routes_and_tcp_listeners() -> None:
    rc = make_resource(ROUTE, "r", _route("r", "a", "b", "c"))
    assert cluster_refs(ROUTE, rc.body) == {"a", "b", "c", "mirror"}
    lst = listener_pb2.Listener(name="l")
    lst.filter_chains.add().filters.add(name="tcp", typed_config=to_any(tcp_proxy_pb2.TcpProxy(cluster="t")))
    assert cluster_refs(LISTENER, make_resource(LISTENER, "l", lst).body) == {"t"}
    assert cluster_refs(CLUSTER, rc.body) == frozenset()


def test_cluster_refs_memo_is_bounded() -> None:
    memo = ClusterRefs(size=3)
    resources = [make_resource(ROUTE, f"r{i}", _route(f"r{i}", f"c{i}")) for i in range(10)]
    for r in resources:
        assert f"c{r.name[1:]}" in memo.of(ROUTE, r)
    assert len(memo._memo) == 3


def test_unanswered_responses_are_bounded_and_answers_apply_in_order() -> None:
    ts = TypeState()
    ts.sent_refs("1", {"r": frozenset({"a"})}, full=False)
    ts.answered("1", accepted=True)
    assert ts.applied == {"r": frozenset({"a"})} and ts.referenced() == {"a"}
    # A proxy that never answers: what is remembered stays bounded, and names all it was sent.
    for i in range(2, 2 + 10 * MAX_UNANSWERED):
        ts.sent_refs(str(i), {"r": frozenset({f"c{i}"})}, full=False)
    assert len(ts.unanswered) <= MAX_UNANSWERED
    assert ts.referenced() == {"a"} | {f"c{i}" for i in range(2, 2 + 10 * MAX_UNANSWERED)}
    # Its answer to the last: it uses that, and (merged) may still name what came before it.
    last = str(1 + 10 * MAX_UNANSWERED)
    ts.answered(last, accepted=True)
    assert ts.unanswered == [] and f"c{last}" in ts.referenced()
    # A NACK: the proxy keeps what it had.
    ts.sent_refs("1000", {"r": frozenset({"z"})}, full=False)
    ts.answered("1000", accepted=False)
    assert "z" not in ts.referenced() and f"c{last}" in ts.referenced()
    # An ACK of a newer response replaces it; a removal names nothing.
    ts.sent_refs("1001", {"r": None}, full=False)
    ts.answered("1001", accepted=True)
    assert ts.referenced() == set()
    ts.answered("not-ours", accepted=True)  # ignored


def test_clusters_waiting_for_an_answer_are_bounded_and_go_with_it() -> None:
    ts = TypeState()
    for i in range(1, 1 + 10 * MAX_UNANSWERED):
        ts.added(str(i), [f"c{i}"])
    ts.added(str(10_000), [])  # nothing new: nothing to wait for
    assert len(ts.adding) <= MAX_UNANSWERED
    assert ts.warming() == {f"c{i}" for i in range(1, 1 + 10 * MAX_UNANSWERED)}
    ts.answered(str(10 * MAX_UNANSWERED - 1), accepted=False)  # a NACK answers too
    assert ts.warming() <= {f"c{10 * MAX_UNANSWERED}"}
    ts.answered(str(10 * MAX_UNANSWERED), accepted=True)
    assert ts.warming() == frozenset()
