"""Discovery's shared caches and helpers: one node map, zone CPU ratios once per Discovery,
per-cluster placement entries, and the selector and exportTo rules the modules share."""

from __future__ import annotations

import pytest

from meshgate.discovery import index as index_module
from meshgate.discovery import topology_hints as th
from meshgate.discovery.destination_rules import destination_rule_for
from meshgate.discovery.index import Discovery
from meshgate.discovery.locality import LocalitySetting, PlacementCache, ProxyView
from meshgate.discovery.model import (
    REGION_LABEL,
    SUBZONE_LABEL,
    ZONE_LABEL,
    EndpointModel,
    Locality,
    ServiceModel,
    exported_to,
    selector_matches,
)
from meshgate.resources.core import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    Pod,
    Service,
    ServicePort,
)
from meshgate.resources.istio import DestinationRule
from meshgate.resources.meta import Meta, Source
from meshgate.store import Store

SRC = Source("test.yaml", 1)
AUTO = {th.TOPOLOGY_MODE_ANNOTATION: "Auto"}


def _node(name: str, region: str, zone: str, subzone: str = "", cpu: int = 1000) -> Node:
    labels = {REGION_LABEL: region, ZONE_LABEL: zone}
    if subzone:
        labels[SUBZONE_LABEL] = subzone
    return Node(Meta(name, "", labels), SRC, cpu, True)


def _service(name: str, annotations: dict[str, str] | None = None) -> Service:
    return Service(Meta(name, "ns", {}, dict(annotations or {})), SRC, "ClusterIP", ("10.96.0.1",),
                   (ServicePort("http", 80, 8080, "TCP", None),), {"app": name}, None)


def _pod(name: str, app: str, ip: str, node: str) -> Pod:
    return Pod(Meta(name, "ns", {"app": app}), SRC, node, (ip,), True, "Running", ())


def _store(*objects: object) -> Store:
    store = Store()
    for obj in objects:
        store.put(obj)
    return store


# --- nodes ------------------------------------------------------------------------------------

def test_node_locality_and_region_come_from_one_node_map() -> None:
    d = Discovery(_store(_node("n1", "r1", "z1", "s1"), _node("n2", "r2", "z2")))
    assert d.node_locality("n1") == Locality("r1", "z1", "s1")
    assert d.node_locality("n2") == Locality("r2", "z2", "")
    assert d.node_locality("gone") == Locality()
    for name in ("n1", "n2", "gone"):
        assert d._node_region(name) == d.node_locality(name).region
    assert set(d._nodes()) == {"n1", "n2"}


def test_slice_endpoints_carry_the_node_region() -> None:
    slice_ = EndpointSlice(Meta("web-1", "ns", {"kubernetes.io/service-name": "web"}), SRC, "web", "IPv4",
                           (EndpointPort("", 8080, "TCP", None),),
                           (Endpoint(("10.0.0.1",), True, None, None, "n1", "z1", None, None, None),))
    service = Service(Meta("web", "ns"), SRC, "ClusterIP", ("10.96.0.1",), (ServicePort("", 80, 8080, "TCP", None),),
                      None, None)
    result = Discovery(_store(_node("n1", "r1", "z1", "s1"), slice_, service)).endpoints("Service", "ns", "web", 80)
    assert result is not None
    assert [e.locality for e in result[1]] == [Locality("r1", "z1", "")]  # slices carry no subzone


# --- zone CPU ratios ----------------------------------------------------------------------------

def test_zone_cpu_ratios_are_computed_once_per_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting(nodes):  # type: ignore[no-untyped-def]
        calls.append(1)
        return th.zone_cpu_ratios(nodes)

    monkeypatch.setattr(index_module, "zone_cpu_ratios", counting)
    nodes = [_node("n1", "r", "z1"), _node("n2", "r", "z2")]
    pods = [_pod(f"{app}-{i}", app, f"10.0.{j}.{i}", f"n{i % 2 + 1}")
            for j, app in enumerate(("a", "b")) for i in range(4)]
    d = Discovery(_store(*nodes, *pods, _service("a", AUTO), _service("b", AUTO), _service("plain")))
    d.slices("ns", "plain")
    assert calls == []  # not needed without auto hints
    a = d.slices("ns", "a")
    d.slices("ns", "b")
    d.invalidate_service("ns", "a")
    again = d.slices("ns", "a")
    assert calls == [1]
    assert again == a
    assert all(e.hints_zones for s in a for e in s.endpoints)


def test_compute_hints_with_given_ratios_matches_the_default() -> None:
    nodes = [_node("n1", "r", "z1", cpu=1000), _node("n2", "r", "z2", cpu=3000)]
    pods = [_pod(f"a-{i}", "a", f"10.0.0.{i}", f"n{i % 2 + 1}") for i in range(8)]
    d = Discovery(_store(*nodes, *pods, _service("a", AUTO)))
    slices = d.slices("ns", "a")
    svc = _service("a", AUTO)
    default = th.compute_hints(svc, slices, nodes)
    given = th.compute_hints(svc, slices, nodes, zone_ratios=lambda: th.zone_cpu_ratios(nodes)[0])
    assert given == default


# --- PlacementCache -----------------------------------------------------------------------------

def test_placement_cache_invalidates_one_cluster_only() -> None:
    eps = [EndpointModel("a", 80, "HEALTHY", Locality("r1", "z1")), EndpointModel("b", 80, "HEALTHY", Locality("r2"))]
    proxy = ProxyView(Locality("r1", "z1"), ())
    setting = LocalitySetting(failover=(("r1", "r2"),))
    cache = PlacementCache()
    cache.placements("c1", 1, proxy, eps, setting, True)
    cache.placements("c2", 1, proxy, eps, setting, True)
    cache.placements("c2", 1, proxy, eps, setting, False)
    assert len(cache) == 3
    cache.invalidate("c2")
    assert len(cache) == 1
    cache.invalidate("unknown")
    cache.placements("c1", 1, proxy, eps, setting, True)
    assert (cache.computations, cache.hits) == (3, 1)
    cache.placements("c2", 1, proxy, eps, setting, True)
    assert (cache.computations, cache.hits, len(cache)) == (4, 1, 2)


# --- shared rules -------------------------------------------------------------------------------

@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ({}, {}, True),
    ({}, {"app": "a"}, True),
    ({"app": "a"}, {"app": "a", "v": "1"}, True),
    ({"app": "a"}, {"app": "b"}, False),
    ({"app": "a"}, {}, False),
    ({"app": ""}, {}, False),
])
def test_selector_matches(selector: dict[str, str], labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected


@pytest.mark.parametrize(("export_to", "namespace", "expected"), [
    (("*",), "other", True),
    ((".",), "own", True),
    ((".",), "other", False),
    (("other",), "other", True),
    (("~",), "own", False),
    ((), "own", False),
])
def test_export_rule_is_shared_by_services_and_destination_rules(export_to: tuple[str, ...], namespace: str,
                                                                  expected: bool) -> None:
    assert exported_to(export_to, "own", namespace) is expected
    model = ServiceModel("ServiceEntry", "own", "se", ("h.example",), (), (), export_to=export_to)
    assert model.visible_from(namespace) is expected
    rule = DestinationRule(Meta("dr", "own"), SRC, "h.example", None, (), export_to, None)
    # An empty exportTo on a DestinationRule exports it everywhere.
    assert (destination_rule_for([rule], "h.example", namespace) is rule) is (expected or not export_to)


def test_destination_rule_short_host_is_the_service_host() -> None:
    rule = DestinationRule(Meta("dr", "own"), SRC, "web", None, (), (), None)
    assert destination_rule_for([rule], "web.own.svc.cluster.local", "own") is rule
    assert destination_rule_for([rule], "web.other.svc.cluster.local", "own") is None
