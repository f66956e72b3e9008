"""Per-proxy endpoint filtering from topology hints, as kube-proxy's CategorizeEndpoints.

Cases after Kubernetes' pkg/proxy/topology_test.go (TestCategorizeEndpoints), in our words.
"""

from __future__ import annotations

import pytest

from meshgate.discovery.endpoints import health_of
from meshgate.discovery.model import DRAINING, HEALTHY, UNHEALTHY, EndpointModel
from meshgate.discovery.topology_filter import NODE, ZONE, categorize, has_hints, serving_fallback


def ep(last: int, health: str = HEALTHY, zones: tuple[str, ...] | None = None,
       nodes: tuple[str, ...] | None = None) -> EndpointModel:
    return EndpointModel(f"10.1.2.{last}", 80, health, hints_zones=zones, hints_nodes=nodes)


def addrs(result) -> set[int]:
    return {int(e.address.rsplit(".", 1)[1]) for e in result.endpoints}


@pytest.mark.parametrize(
    ("name", "endpoints", "zone", "node", "want", "mode"),
    [
        ("zone hints: only this zone's endpoints",
         [ep(3, zones=("zone-a",)), ep(4, zones=("zone-b",)), ep(5, zones=("zone-c",)), ep(6, zones=("zone-a",))],
         "zone-a", "node-1", {3, 6}, ZONE),
        ("zone hints for several zones on one endpoint",
         [ep(3, zones=("zone-a", "zone-b")), ep(4, zones=("zone-c",))],
         "zone-b", "", {3}, ZONE),
        ("no endpoint hinted for this zone: everything",
         [ep(3, zones=("zone-b",)), ep(4, zones=("zone-c",))],
         "zone-a", "", {3, 4}, ""),
        ("one ready endpoint without a zone hint: everything",
         [ep(3, zones=("zone-a",)), ep(4), ep(5, zones=("zone-c",))],
         "zone-a", "", {3, 4, 5}, ""),
        ("the proxy has no zone: everything",
         [ep(3, zones=("zone-a",)), ep(4, zones=("zone-b",))],
         "", "", {3, 4}, ""),
        ("not-ready endpoints need no hints and are never used",
         [ep(3, zones=("zone-a",)), ep(4, UNHEALTHY), ep(5, zones=("zone-b",))],
         "zone-a", "", {3}, ZONE),
        ("no hints at all: every ready endpoint",
         [ep(3), ep(4), ep(5, UNHEALTHY)],
         "zone-a", "node-1", {3, 4}, ""),
        ("node hints win over zone hints when one is for this node",
         [ep(3, zones=("zone-a",), nodes=("node-1",)), ep(4, zones=("zone-a",), nodes=("node-2",))],
         "zone-a", "node-1", {3}, NODE),
        ("node hints for other nodes only: zone hints decide",
         [ep(3, zones=("zone-a",), nodes=("node-2",)), ep(4, zones=("zone-b",), nodes=("node-3",))],
         "zone-a", "node-1", {3}, ZONE),
        ("some ready endpoints without node hints: zone hints decide",
         [ep(3, zones=("zone-a",), nodes=("node-1",)), ep(4, zones=("zone-a",))],
         "zone-a", "node-1", {3, 4}, ZONE),
        ("no ready endpoint: serving-terminating ones, hints aside",
         [ep(3, DRAINING, zones=("zone-b",)), ep(4, DRAINING), ep(5, UNHEALTHY)],
         "zone-a", "", {3, 4}, ""),
        ("ready endpoints filtered to none would not fall back while some are ready elsewhere",
         [ep(3, zones=("zone-b",)), ep(4, DRAINING, zones=("zone-a",))],
         "zone-a", "", {3}, ""),
    ],
)
def test_categorize(name: str, endpoints: list[EndpointModel], zone: str, node: str, want: set[int],
                    mode: str) -> None:
    result = categorize(endpoints, zone, node)
    assert (addrs(result), result.mode) == (want, mode), name


def test_has_hints() -> None:
    assert not has_hints([ep(3), ep(4)])
    assert has_hints([ep(3), ep(4, zones=("zone-a",))])
    assert has_hints([ep(3, nodes=("n",))])


@pytest.mark.parametrize(
    ("name", "endpoints", "want"),
    [
        # TestCategorizeEndpoints, Cluster traffic policy without hints: what is used is HEALTHY.
        ("all endpoints are terminating: they are used", [ep(0, DRAINING), ep(1, DRAINING)],
         [(0, HEALTHY), (1, HEALTHY)]),
        ("some endpoints are ready: only they are used", [ep(0, UNHEALTHY), ep(1)], [(0, UNHEALTHY), (1, HEALTHY)]),
        ("none ready, none serving-terminating: nothing is used", [ep(0, UNHEALTHY), ep(1, UNHEALTHY)],
         [(0, UNHEALTHY), (1, UNHEALTHY)]),
        ("one ready: the terminating one stays DRAINING", [ep(0, DRAINING), ep(1)], [(0, DRAINING), (1, HEALTHY)]),
        ("the fallback leaves not-ready ones UNHEALTHY", [ep(0, DRAINING), ep(1, UNHEALTHY)],
         [(0, HEALTHY), (1, UNHEALTHY)]),
    ],
)
def test_serving_fallback(name: str, endpoints: list[EndpointModel], want: list[tuple[int, str]]) -> None:
    assert [(int(e.address.rsplit(".", 1)[1]), e.health) for e in serving_fallback(tuple(endpoints))] == want


def test_serving_fallback_returns_the_same_tuple_when_nothing_changes() -> None:
    endpoints = (ep(0), ep(1, DRAINING))
    assert serving_fallback(endpoints) is endpoints  # placements are shared by identity


@pytest.mark.parametrize(
    ("ready", "serving", "terminating", "want"),
    [
        # kube-proxy's newEndpointSliceInfo: ready and serving unset mean true, terminating unset false.
        (None, None, None, HEALTHY),
        (True, True, False, HEALTHY),
        (True, True, True, HEALTHY),  # ready wins, terminating or not (kube-proxy and Istio use it)
        (False, True, True, DRAINING),
        (False, None, True, DRAINING),  # serving unset is serving
        (False, False, True, UNHEALTHY),
        (False, True, False, UNHEALTHY),
        (False, None, None, UNHEALTHY),
    ],
)
def test_health_of_reads_conditions_as_kube_proxy(ready: bool | None, serving: bool | None,
                                                 terminating: bool | None, want: str) -> None:
    assert health_of(ready, serving, terminating) == want
