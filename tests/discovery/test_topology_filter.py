"""Per-proxy endpoint filtering from topology hints, as kube-proxy's CategorizeEndpoints.

Cases after Kubernetes' pkg/proxy/topology_test.go (TestCategorizeEndpoints), in our words.
"""

from __future__ import annotations

import pytest

from meshgate.discovery.model import DRAINING, HEALTHY, UNHEALTHY, EndpointModel
from meshgate.discovery.topology_filter import NODE, ZONE, categorize, has_hints


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
