"""Topology hints as the EndpointSlice controller computes them (ARCHITECTURE §7, issue 5 item 1).

The tables re-express Kubernetes' own test cases (k8s.io/endpointslice: topologycache's
TestAddHints, TestSetNodes, Test_getGivingAndReceivingZones, Test_redistributeHints,
Test_getHintsByZone, Test_getTotalReadyEndpoints; trafficdist's TestReconcileHints) for
meshgate's typed objects, plus the reconciler's choice between them (annotation, deprecated
annotation, trafficDistribution, managed-by) and the bad input the issue lists.
"""

from __future__ import annotations

import pytest

from meshgate.discovery import topology_hints as th
from meshgate.discovery.topology_hints import (
    DEPRECATED_HINTS_ANNOTATION,
    INSUFFICIENT_NODE_INFO,
    K8S_CONTROLLER,
    MANAGED_BY_LABEL,
    MESHGATE_CONTROLLER,
    MODE_AUTO,
    MODE_NONE,
    MODE_PREFER_CLOSE,
    MODE_PREFER_SAME_NODE,
    NODES_READY_IN_ONE_ZONE_ONLY,
    TOPOLOGY_MODE_ANNOTATION,
    HintEvent,
    compute_hints,
    hinted_slices_json,
    hints_mode,
    zone_cpu_ratios,
)
from meshgate.resources.core import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    Service,
    ServicePort,
    TargetRef,
)
from meshgate.resources.meta import Meta, Source

SRC = Source("test.yaml", 1)
AUTO = {TOPOLOGY_MODE_ANNOTATION: "Auto"}
SVC = "ns/svc"


def ep(address: str, zone: str | None = None, *, ready: bool | None = True, node: str | None = None,
       zones: tuple[str, ...] | None = None, nodes: tuple[str, ...] | None = None) -> Endpoint:
    return Endpoint((address,), ready, None, None, node, zone, zones, nodes, None)


def slc(name: str, *endpoints: Endpoint, managed: str | None = K8S_CONTROLLER, address_type: str = "IPv4") -> EndpointSlice:
    labels = {"kubernetes.io/service-name": "svc"}
    if managed is not None:
        labels[MANAGED_BY_LABEL] = managed
    return EndpointSlice(Meta(name, "ns", labels), SRC, "svc", address_type, None, tuple(endpoints))


def node(name: str, zone: str | None, cpu: int | None, *, ready: bool = True,
         labels: dict[str, str] | None = None) -> Node:
    all_labels = dict(labels or {})
    if zone is not None:
        all_labels["topology.kubernetes.io/zone"] = zone
    return Node(Meta(name, "", all_labels), SRC, cpu, ready)


def nodes_for(cpu_by_zone: dict[str, int]) -> list[Node]:
    """One Ready Node per zone with that much allocatable CPU (millicores)."""
    return [node(f"node-{zone}", zone, cpu) for zone, cpu in cpu_by_zone.items()]


def svc(annotations: dict[str, str] | None = None, distribution: str | None = None, *,
        selector: dict[str, str] | None = None, type_: str = "ClusterIP") -> Service:
    return Service(Meta("svc", "ns", {}, dict(annotations or {})), SRC, type_, ("10.96.0.1",),
                   (ServicePort("http", 80, 8080, "TCP", None),),
                   {"app": "svc"} if selector is None else selector, distribution)


def hints(slices: list[EndpointSlice]) -> list[list[tuple[str, tuple[str, ...] | None, tuple[str, ...] | None]]]:
    """Per slice, per endpoint: (address, zone hints, node hints)."""
    return [[(e.addresses[0], e.hints_zones, e.hints_nodes) for e in s.endpoints] for s in slices]


def warning(message: str, address_type: str = "IPv4") -> HintEvent:
    return HintEvent("Warning", "TopologyAwareHintsDisabled", f"{message}, addressType: {address_type}", SVC)


def enabled(address_type: str = "IPv4") -> HintEvent:
    return HintEvent("Normal", "TopologyAwareHintsEnabled",
                     f"Topology Aware Hints has been enabled, addressType: {address_type}", SVC)


# --- zone CPU ratios (TestSetNodes)

SET_NODES_CASES = [
    ("empty", [], None),
    ("single node", [node("n1", "zone-a", 1000)], None),
    ("single zone", [node("n1", "zone-a", 1000), node("n2", "zone-a", 1000)], None),
    ("2 zones", [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000)], {"zone-a": 0.5, "zone-b": 0.5}),
    ("2 zones, unready node in 1, ready node in 1",
     [node("n1", "zone-a", 1000, ready=False), node("n2", "zone-b", 1000)], None),
    ("2 zones, control plane node in 1, ready node in 1",
     [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000, labels={"node-role.kubernetes.io/control-plane": ""})],
     None),
    ("2 zones, unready node in 1, ready node in 2",
     [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000), node("n3", "zone-b", 1000, ready=False)],
     {"zone-a": 0.5, "zone-b": 0.5}),
    ("2 zones, control plane node in 1, ready node in 2",
     [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000),
      node("n3", "zone-b", 1000, labels={"node-role.kubernetes.io/control-plane": ""})],
     {"zone-a": 0.5, "zone-b": 0.5}),
    ("3 zones, 4 nodes in 1, 2 nodes in 1, 1 node in 1",
     [node("a1", "zone-a", 1000), node("a2", "zone-a", 1000), node("a3", "zone-a", 1000), node("a4", "zone-a", 2000),
      node("b1", "zone-b", 3000), node("b2", "zone-b", 1500), node("c1", "zone-c", 500)],
     {"zone-a": 0.5, "zone-b": 0.45, "zone-c": 0.05}),
    # meshgate's own: the legacy master label excludes a node too
    ("2 zones, master node in 1, ready node in 2",
     [node("n1", "zone-a", 1000), node("n2", "zone-b", 3000),
      node("n3", "zone-b", 1000, labels={"node-role.kubernetes.io/master": "true"})],
     {"zone-a": 0.25, "zone-b": 0.75}),
    # bad input: a Ready worker without a zone label, or without allocatable CPU (or with none)
    ("ready node without zone", [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000), node("n3", None, 1000)], None),
    ("ready node with empty zone", [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000), node("n3", "", 1000)], None),
    ("ready node without cpu", [node("n1", "zone-a", 1000), node("n2", "zone-b", None)], None),
    ("ready node with zero cpu", [node("n1", "zone-a", 1000), node("n2", "zone-b", 0)], None),
    # ...but such a node does not matter when it is not Ready or is a control-plane node
    ("unready node without zone",
     [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000), node("n3", None, None, ready=False)],
     {"zone-a": 0.5, "zone-b": 0.5}),
    ("control plane node without zone",
     [node("n1", "zone-a", 1000), node("n2", "zone-b", 1000),
      node("n3", None, None, labels={"node-role.kubernetes.io/control-plane": ""})],
     {"zone-a": 0.5, "zone-b": 0.5}),
]


@pytest.mark.parametrize(("nodes", "expected"), [c[1:] for c in SET_NODES_CASES], ids=[c[0] for c in SET_NODES_CASES])
def test_zone_cpu_ratios(nodes: list[Node], expected: dict[str, float] | None) -> None:
    ratios, reason = zone_cpu_ratios(nodes)
    assert ratios == expected  # exact, as upstream compares them
    assert reason == (None if expected is not None else INSUFFICIENT_NODE_INFO)


# --- allocations (getAllocations)


def test_allocations_within_threshold() -> None:
    allocations, problem = th._allocations({"zone-a": 0.35, "zone-b": 0.35, "zone-c": 0.30}, 10)
    assert problem is None
    assert {z: (a.minimum, a.maximum) for z, a in allocations.items()} == {
        "zone-a": (3, 4), "zone-b": (3, 4), "zone-c": (3, 4)}
    assert allocations["zone-a"].desired == pytest.approx(3.5)
    assert allocations["zone-c"].desired == pytest.approx(3.0)


def test_allocations_desired_is_at_least_the_minimum() -> None:
    # 0.05 of 10 endpoints is half an endpoint, but a zone gets at least one.
    allocations, _ = th._allocations({"zone-a": 0.5, "zone-b": 0.45, "zone-c": 0.05}, 10)
    assert allocations["zone-c"].minimum == 1
    assert allocations["zone-c"].desired == 1.0
    assert {z: a.maximum for z, a in allocations.items()} == {"zone-a": 5, "zone-b": 4, "zone-c": 1}


@pytest.mark.parametrize(("ratios", "endpoints", "message"), [
    (None, 5, INSUFFICIENT_NODE_INFO),
    # Only reachable with ratios set directly, as in upstream's own tests: the Nodes of one
    # zone give no ratios at all (see test_zone_cpu_ratios).
    ({"zone-a": 1.0}, 5, NODES_READY_IN_ONE_ZONE_ONLY),
    ({"zone-a": 0.3, "zone-b": 0.4, "zone-c": 0.3}, 2, "Insufficient number of endpoints (2 endpoints, 3 zones)"),
    ({"zone-a": 0.5, "zone-b": 0.5}, 0, "Insufficient number of endpoints (0 endpoints, 2 zones)"),
    ({"zone-a": 0.9, "zone-b": 0.05, "zone-c": 0.05}, 3,
     ("Unable to allocate minimum required endpoints to each zone without exceeding overload threshold "
      "(3 endpoints, 3 zones)")),
], ids=["no ratios", "one zone", "fewer endpoints than zones", "no endpoints", "minimums exceed"])
def test_allocations_impossible(ratios: dict[str, float] | None, endpoints: int, message: str) -> None:
    assert th._allocations(ratios, endpoints) == (None, message)


# --- giving and receiving zones (Test_getGivingAndReceivingZones)

A = th._Allocation

GIVING_RECEIVING_CASES = [
    ("empty", {}, {}, {}, {}),
    ("simple allocation with no need for rebalancing",
     {"zone-a": A(desired=1.2), "zone-b": A(desired=1.1), "zone-c": A(desired=1.0)},
     {"zone-a": 1, "zone-b": 1, "zone-c": 1}, {}, {}),
    ("preference for same zone even when giving an extra endpoint would result in slightly better distribution",
     {"zone-a": A(desired=5.1), "zone-b": A(desired=5.1), "zone-c": A(desired=5.8)},
     {"zone-a": 16}, {"zone-a": 10}, {"zone-b": 5, "zone-c": 5}),
    ("when 2 zones need < 1 endpoint, give to zone that needs endpoint most",
     {"zone-a": A(desired=5.0), "zone-b": A(desired=5.6), "zone-c": A(desired=5.4)},
     {"zone-a": 16}, {"zone-a": 11}, {"zone-b": 6, "zone-c": 5}),
    ("when 2 zones have extra endpoints, give from zone with most extra",
     {"zone-a": A(desired=5.0), "zone-b": A(desired=5.6), "zone-c": A(desired=5.4)},
     {"zone-b": 8, "zone-c": 8}, {"zone-b": 2, "zone-c": 3}, {"zone-a": 5}),
    ("unexpected data: more allocated than allocations",
     {"zone-a": A(desired=5.0), "zone-b": A(desired=5.0), "zone-c": A(desired=5.0)},
     {"zone-a": 6, "zone-b": 6, "zone-c": 6}, {}, {}),
    ("unexpected data: negative allocations",
     {"zone-a": A(desired=-5.0), "zone-b": A(desired=-5.0), "zone-c": A(desired=-5.0)},
     {"zone-a": 6, "zone-b": 6, "zone-c": 6}, {}, {}),
    ("unexpected data: negative allocated",
     {"zone-a": A(desired=5.0), "zone-b": A(desired=5.0), "zone-c": A(desired=5.0)},
     {"zone-a": -4, "zone-b": -3, "zone-c": -2}, {}, {}),
    # meshgate's own: a tie goes to the first zone by name (Go leaves it to map order)
    ("tie between receiving zones",
     {"zone-a": A(desired=5.0), "zone-b": A(desired=5.6), "zone-c": A(desired=5.6)},
     {"zone-a": 6, "zone-b": 5, "zone-c": 5}, {"zone-a": 1}, {"zone-b": 1}),
    ("receiving zone short of less than half an endpoint",
     {"zone-a": A(desired=4.0), "zone-b": A(desired=3.3)},
     {"zone-a": 6, "zone-b": 3}, {}, {}),
    ("unexpected data: negative for 1 zone",
     {"zone-a": A(desired=5.0), "zone-b": A(desired=5.0), "zone-c": A(desired=5.0)},
     {"zone-a": -40, "zone-b": 20, "zone-c": 20}, {"zone-b": 15, "zone-c": 15}, {"zone-a": 30}),
]


@pytest.mark.parametrize(("allocations", "allocated", "giving", "receiving"), [c[1:] for c in GIVING_RECEIVING_CASES],
                         ids=[c[0] for c in GIVING_RECEIVING_CASES])
def test_giving_and_receiving_zones(allocations: dict, allocated: dict, giving: dict, receiving: dict) -> None:
    assert th._giving_and_receiving(allocations, allocated) == (giving, receiving)


# --- redistribution (Test_redistributeHints)


def own_zone_slice(*zones: str) -> EndpointSlice:
    return slc("s", *(ep(f"10.0.0.{i}", z, zones=(z,)) for i, z in enumerate(zones, 1)))


@pytest.mark.parametrize(("slices", "giving", "receiving", "moved", "after"), [
    ([], {}, {}, {}, []),
    ([own_zone_slice("zone-a")], {"zone-a": 1}, {"zone-b": 1}, {"zone-a": -1, "zone-b": 1}, [["zone-b"]]),
    ([own_zone_slice("zone-a", "zone-a", "zone-a")], {"zone-a": 2}, {"zone-b": 1, "zone-c": 1},
     {"zone-a": -2, "zone-b": 1, "zone-c": 1}, [["zone-b", "zone-c", "zone-a"]]),
    # meshgate's own: unready endpoints are never moved, and other zones' endpoints stay put
    ([slc("s", ep("10.0.0.1", "zone-a", ready=False, zones=("zone-a",)), ep("10.0.0.2", "zone-c", zones=("zone-c",)),
          ep("10.0.0.3", "zone-a", zones=("zone-a",)))],
     {"zone-a": 1}, {"zone-b": 1}, {"zone-a": -1, "zone-b": 1}, [[None, "zone-c", "zone-b"]]),
], ids=["empty", "single endpoint", "endpoints from 1 zone redistributed to 2 other zones",
        "unready and other zones untouched"])
def test_redistribute(slices: list[EndpointSlice], giving: dict, receiving: dict, moved: dict, after: list) -> None:
    rewrites = [th._Rewrite(s) for s in slices]
    assert th._redistribute(rewrites, dict(giving), dict(receiving)) == moved
    assert [[z[0] if z else None for z in r.zones] for r in rewrites] == after


# --- which slices keep their hints (Test_getHintsByZone)

HINTS_BY_ZONE_CASES = [
    ("empty", slc("s"), {}, {}, {}),
    ("single zone hint", slc("s", ep("1", "zone-a", zones=("zone-a",))), {"zone-a": A(maximum=3)}, {"zone-a": 1},
     {"zone-a": 1}),
    ("single zone hint with 1 unready endpoint and 1 unknown endpoint",
     slc("s", ep("1", "zone-a", zones=("zone-a",)), ep("2", "zone-a", ready=False, zones=("zone-a",)),
         ep("3", "zone-a", ready=None, zones=("zone-a",))),
     {"zone-a": A(maximum=3)}, {"zone-a": 1}, {"zone-a": 1}),
    ("multiple zone hints",
     slc("s", ep("1", "zone-a", zones=("zone-a",)), ep("2", "zone-a", zones=("zone-b",)),
         ep("3", "zone-b", zones=("zone-b",))),
     {"zone-a": A(maximum=3), "zone-b": A(maximum=3), "zone-c": A(maximum=3)},
     {"zone-a": 1, "zone-b": 1, "zone-c": 1}, {"zone-a": 1, "zone-b": 2}),
    ("invalid by zones that no longer requires any allocations",
     slc("s", ep("1", "zone-a", zones=("zone-non-existent",))), {"zone-a": A(maximum=3)},
     {"zone-a": 1, "zone-b": 1, "zone-c": 1}, None),
    ("invalid by endpoints with nil hints", slc("s", ep("1", "zone-a")), {"zone-a": A(maximum=3)}, {}, None),
    ("invalid by endpoint with no hints", slc("s", ep("1", "zone-a", zones=())), {"zone-a": A(maximum=3)}, {}, None),
    ("invalid by hints that would make minimum allocations impossible",
     slc("s", ep("1", "zone-a", zones=("zone-a",)), ep("2", "zone-a", zones=("zone-a",))),
     {"zone-a": A(maximum=2)}, {"zone-a": 1}, None),
]


@pytest.mark.parametrize(("slice_", "allocations", "allocated", "expected"), [c[1:] for c in HINTS_BY_ZONE_CASES],
                         ids=[c[0] for c in HINTS_BY_ZONE_CASES])
def test_hints_by_zone(slice_: EndpointSlice, allocations: dict, allocated: dict, expected: dict | None) -> None:
    assert th._hints_by_zone(slice_, allocated, allocations) == expected


# --- ready endpoints (Test_getTotalReadyEndpoints)


def n_endpoints(ready: int, unready: int) -> EndpointSlice:
    return slc("s", *(ep(f"10.1.2.{i}") for i in range(ready)),
               *(ep(f"10.1.3.{i}", ready=False) for i in range(unready)))


@pytest.mark.parametrize(("slices", "expected"), [
    ([], 0),
    ([n_endpoints(0, 0)], 0),
    ([n_endpoints(15, 0), n_endpoints(8, 0)], 23),
    ([n_endpoints(15, 0), n_endpoints(8, 0), n_endpoints(2, 0), n_endpoints(100, 0), n_endpoints(90, 0)], 215),
    ([n_endpoints(15, 3), n_endpoints(5, 4), n_endpoints(3, 8), n_endpoints(98, 2), n_endpoints(90, 6)], 211),
    ([slc("s", ep("1"), ep("2", ready=None))], 1),  # ready unset is not counted by the controller
], ids=["empty", "empty slice", "multiple slices", "slices for all", "slices for all with some unready",
        "ready unset"])
def test_ready_endpoints(slices: list[EndpointSlice], expected: int) -> None:
    assert th._ready_endpoints(slices) == expected


# --- AddHints, through compute_hints (TestAddHints)


def test_add_hints_empty_placeholder_without_node_info() -> None:
    # Upstream's "empty": no endpoints (the controller's placeholder slice) and no zone ratios.
    placeholder = slc("svc-abc")
    out, events = compute_hints(svc(AUTO), [placeholder], [])
    assert out == [placeholder]
    assert events == [warning(INSUFFICIENT_NODE_INFO)]


def test_add_hints_no_zone_ratios() -> None:
    slices = [slc("s", ep("10.1.2.3", "zone-a"))]
    out, events = compute_hints(svc(AUTO), slices, [])
    assert hints(out) == [[("10.1.2.3", None, None)]]
    assert events == [warning(INSUFFICIENT_NODE_INFO)]


def test_add_hints_two_endpoints_three_zones() -> None:
    slices = [slc("s", ep("10.1.2.3", "zone-a"), ep("10.1.2.4", "zone-b"))]
    out, events = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 300, "zone-b": 400, "zone-c": 300}))
    assert hints(out) == [[("10.1.2.3", None, None), ("10.1.2.4", None, None)]]
    assert events == [warning("Insufficient number of endpoints (2 endpoints, 3 zones)")]


def test_add_hints_two_endpoints_two_zones() -> None:
    slices = [slc("s", ep("10.1.2.3", "zone-a"), ep("10.1.2.4", "zone-b"))]
    out, events = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 450, "zone-b": 550}))
    assert hints(out) == [[("10.1.2.3", ("zone-a",), None), ("10.1.2.4", ("zone-b",), None)]]
    assert events == [enabled()]


def test_add_hints_unready_and_unknown_endpoints_get_none() -> None:
    slices = [slc("s", ep("10.1.2.3", "zone-a"), ep("10.1.2.4", "zone-b"), ep("10.1.2.5", "zone-b", ready=False),
                  ep("10.1.2.6", "zone-b", ready=None))]
    out, events = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 450, "zone-b": 550}))
    assert hints(out) == [[("10.1.2.3", ("zone-a",), None), ("10.1.2.4", ("zone-b",), None),
                           ("10.1.2.5", None, None), ("10.1.2.6", None, None)]]
    assert events == [enabled()]


def test_add_hints_three_zone_threshold() -> None:
    # Upstream's "slices to create and update within 3 zone threshold": zone-a has 5 of 10
    # endpoints for a 35% share, so its first endpoint is given to zone-b (2 endpoints).
    slices = [
        slc("s1", ep("10.1.2.3", "zone-a"), ep("10.1.2.4", "zone-b")),
        slc("s2", ep("10.1.3.3", "zone-c"), ep("10.1.3.4", "zone-c"), ep("10.1.3.5", "zone-a")),
        slc("s3", ep("10.2.2.3", "zone-a"), ep("10.2.2.4", "zone-a")),
        slc("s4", ep("10.2.3.3", "zone-b"), ep("10.2.3.4", "zone-c"), ep("10.2.3.5", "zone-a")),
    ]
    out, events = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 3500, "zone-b": 3500, "zone-c": 3000}))
    assert [[z[0] for _, z, _ in s] for s in hints(out)] == [
        ["zone-b", "zone-b"], ["zone-c", "zone-c", "zone-a"], ["zone-a", "zone-a"], ["zone-b", "zone-c", "zone-a"]]
    assert events == [enabled()]


def test_add_hints_proportional_to_cpu() -> None:
    # 6 endpoints all in zone-a; zone-b has 2/3 of the CPU: it receives 4 of them.
    slices = [slc("s", *(ep(f"10.0.0.{i}", "zone-a") for i in range(6)))]
    out, _ = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 1000, "zone-b": 2000}))
    assert [z for _, z, _ in hints(out)[0]] == [("zone-b",)] * 4 + [("zone-a",)] * 2


# --- existing hints kept while valid (getAllocatedHintsByZone)


def test_valid_hints_are_kept_as_they_are() -> None:
    # Cross-zone hints that still fit the allocations stand (the controller does not churn them).
    kept = slc("s1", ep("10.0.0.1", "zone-a", zones=("zone-b",)), ep("10.0.0.2", "zone-b", zones=("zone-a",)))
    fresh = slc("s2", ep("10.0.0.3", "zone-a"), ep("10.0.0.4", "zone-b"))
    out, events = compute_hints(svc(AUTO), [kept, fresh], nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert out[0] is kept
    assert hints(out)[1] == [("10.0.0.3", ("zone-a",), None), ("10.0.0.4", ("zone-b",), None)]
    assert events == [enabled()]


@pytest.mark.parametrize("stale", [
    slc("s1", ep("10.0.0.1", "zone-a", zones=("zone-x",)), ep("10.0.0.2", "zone-b", zones=("zone-b",))),
    slc("s1", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", "zone-b", zones=("zone-b",))),
    slc("s1", ep("10.0.0.1", "zone-a", zones=("zone-b",)), ep("10.0.0.2", "zone-b", zones=("zone-b",))),
], ids=["hint for a zone without allocation", "ready endpoint without hints", "over the zone's maximum"])
def test_invalid_hints_are_rewritten(stale: EndpointSlice) -> None:
    other = slc("s2", ep("10.0.0.3", "zone-a", zones=("zone-a",)), ep("10.0.0.4", "zone-b", zones=("zone-b",)))
    out, _ = compute_hints(svc(AUTO), [other, stale], nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert out[0] is other
    assert hints(out)[1] == [("10.0.0.1", ("zone-a",), None), ("10.0.0.2", ("zone-b",), None)]


def test_first_valid_slice_keeps_its_hints() -> None:
    # Slices are checked in order: the first one's two zone-b hints fit zone-b's maximum (2 of 4),
    # so it stands, and the second, now over zone-b's maximum, is rewritten and rebalanced.
    first = slc("s1", ep("10.0.0.1", "zone-a", zones=("zone-b",)), ep("10.0.0.2", "zone-b", zones=("zone-b",)))
    second = slc("s2", ep("10.0.0.3", "zone-a", zones=("zone-a",)), ep("10.0.0.4", "zone-b", zones=("zone-b",)))
    out, _ = compute_hints(svc(AUTO), [first, second], nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert out[0] is first
    assert hints(out)[1] == [("10.0.0.3", ("zone-a",), None), ("10.0.0.4", ("zone-a",), None)]


def test_rewritten_slice_drops_hints_of_unready_endpoints_and_node_hints() -> None:
    stale = slc("s", ep("10.0.0.1", "zone-a", nodes=("n1",)), ep("10.0.0.2", "zone-b", zones=("zone-b",)),
                ep("10.0.0.3", "zone-b", ready=False, zones=("zone-b",)))
    out, _ = compute_hints(svc(AUTO), [stale], nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert hints(out) == [[("10.0.0.1", ("zone-a",), None), ("10.0.0.2", ("zone-b",), None),
                           ("10.0.0.3", None, None)]]


# --- removal, with the reason (bad input included)

HINTED = slc("hinted", ep("10.0.1.1", "zone-a", zones=("zone-a",)), ep("10.0.1.2", "zone-b", zones=("zone-b",)))


@pytest.mark.parametrize(("slices", "nodes", "message"), [
    ([HINTED, slc("s", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", None))], nodes_for({"zone-a": 1000, "zone-b": 1000}),
     "One or more endpoints do not have a zone specified"),
    ([HINTED, slc("s", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", ""))], nodes_for({"zone-a": 1000, "zone-b": 1000}),
     "One or more endpoints do not have a zone specified"),
    ([HINTED, slc("s", ep("10.0.0.1", "zone-a"))], nodes_for({"zone-a": 18000, "zone-b": 1000, "zone-c": 1000}),
     ("Unable to allocate minimum required endpoints to each zone without exceeding overload threshold "
      "(3 endpoints, 3 zones)")),
    ([HINTED], nodes_for({"zone-a": 1000, "zone-b": 1000, "zone-c": 1000}),
     "Insufficient number of endpoints (2 endpoints, 3 zones)"),
    ([HINTED], nodes_for({"zone-a": 1000, "zone-b": 1000}) + [node("n", None, 1000)], INSUFFICIENT_NODE_INFO),
    ([HINTED], nodes_for({"zone-a": 1000, "zone-b": 1000}) + [node("n", "zone-b", None)], INSUFFICIENT_NODE_INFO),
    # Nodes in one zone: Kubernetes reports insufficient Node information, not "one zone".
    ([HINTED], [node("n1", "zone-a", 1000), node("n2", "zone-a", 1000)], INSUFFICIENT_NODE_INFO),
], ids=["endpoint without zone", "endpoint with empty zone", "min allocation exceeds overload threshold",
        "insufficient endpoints", "node without zone", "node without cpu", "nodes in one zone"])
def test_hints_removed_with_reason(slices: list[EndpointSlice], nodes: list[Node], message: str) -> None:
    out, events = compute_hints(svc(AUTO), slices, nodes)
    assert all(z is None and n is None for s in hints(out) for _, z, n in s)
    assert events == [warning(message)]


def test_unready_endpoint_without_zone_does_not_disable() -> None:
    slices = [slc("s", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", "zone-b"), ep("10.0.0.3", None, ready=False))]
    out, events = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert [z for _, z, _ in hints(out)[0]] == [("zone-a",), ("zone-b",), None]
    assert events == [enabled()]


# --- the reconciler: per address type, controller state, managed-by, Services it manages


def test_dual_stack_enabled_event_once() -> None:
    v4 = slc("v4", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", "zone-b"))
    v6 = slc("v6", ep("fd00::1", "zone-a"), ep("fd00::2", "zone-b"), address_type="IPv6")
    out, events = compute_hints(svc(AUTO), [v6, v4], nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert hints(out) == [[("fd00::1", ("zone-a",), None), ("fd00::2", ("zone-b",), None)],
                          [("10.0.0.1", ("zone-a",), None), ("10.0.0.2", ("zone-b",), None)]]
    assert events == [enabled("IPv4")]  # the Service already has hints when IPv6 comes


def test_dual_stack_failure_then_success() -> None:
    v4 = slc("v4", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", None))
    v6 = slc("v6", ep("fd00::1", "zone-a"), ep("fd00::2", "zone-b"), address_type="IPv6")
    _, events = compute_hints(svc(AUTO), [v4, v6], nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert events == [warning("One or more endpoints do not have a zone specified", "IPv4"), enabled("IPv6")]


def test_previously_enabled_no_second_enabled_event() -> None:
    slices = [slc("s", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", "zone-b"))]
    _, events = compute_hints(svc(AUTO), slices, nodes_for({"zone-a": 1000, "zone-b": 1000}), previously_enabled=True)
    assert events == []


@pytest.mark.parametrize("service", [svc(), svc({TOPOLOGY_MODE_ANNOTATION: "Disabled"}), svc(None, "PreferClose")],
                         ids=["annotation removed", "annotation disabled", "trafficDistribution instead"])
def test_annotation_turned_off_after_hints(service: Service) -> None:
    v4 = slc("v4", ep("10.0.0.1", "zone-a", zones=("zone-b",)))
    v6 = slc("v6", ep("fd00::1", "zone-a", zones=("zone-b",)), address_type="IPv6")
    out, events = compute_hints(service, [v4, v6], [], previously_enabled=True)
    assert events == [warning("Topology Aware Hints has been disabled")]  # once per Service
    expected = ("zone-a",) if service.traffic_distribution else None
    assert [z for s in hints(out) for _, z, _ in s] == [expected, expected]
    _, fresh_events = compute_hints(service, [v4, v6], [])
    assert fresh_events == []  # a controller that never set hints has nothing to announce


def test_only_managed_slices_are_touched() -> None:
    k8s = slc("a", ep("10.0.0.1", "zone-a"), managed=K8S_CONTROLLER)
    ours = slc("b", ep("10.0.0.2", "zone-b"), managed=MESHGATE_CONTROLLER)
    hand = slc("c", ep("10.0.0.3", "zone-a", zones=("zone-z",)), managed=None)
    other = slc("d", ep("10.0.0.4", "zone-a", zones=("zone-z",)), managed="example.com/controller")
    mirror = slc("e", ep("10.0.0.5", "zone-b", zones=("zone-z",)), managed="endpointslicemirroring-controller.k8s.io")
    given = [k8s, hand, ours, other, mirror]
    out, events = compute_hints(svc(AUTO), given, nodes_for({"zone-a": 1000, "zone-b": 1000}))
    # The two managed slices are allocated together: one endpoint per zone fits exactly.
    assert hints(out[:1] + out[2:3]) == [[("10.0.0.1", ("zone-a",), None)], [("10.0.0.2", ("zone-b",), None)]]
    assert out[1] is hand and out[3] is other and out[4] is mirror
    assert given == [k8s, hand, ours, other, mirror]  # nothing changed in place
    assert events == [enabled()]


@pytest.mark.parametrize("service", [svc(AUTO, selector={}), svc(AUTO, type_="ExternalName")],
                         ids=["no selector", "ExternalName"])
def test_services_the_controller_does_not_manage(service: Service) -> None:
    slices = [slc("s", ep("10.0.0.1", "zone-a", zones=("zone-z",)), ep("10.0.0.2", None))]
    out, events = compute_hints(service, slices, nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert out == slices and out[0] is slices[0]
    assert events == []


def test_no_managed_slices_no_events() -> None:
    hand = slc("s", ep("10.0.0.1", "zone-a"), managed=None)
    assert compute_hints(svc(AUTO), [hand], []) == ([hand], [])


# --- trafficDistribution (trafficdist TestReconcileHints)


def test_prefer_close_sets_zone_hints() -> None:
    slices = [
        slc("c1", ep("10.0.0.1", "zone-a", node="node-1"), ep("10.0.0.2", "zone-b", node="node-2")),
        slc("c2", ep("10.0.0.3", "zone-a", node="node-3"), ep("10.0.0.4", "zone-b", node="node-4")),
        slc("u1", ep("10.0.0.5", "zone-a", node="node-5"), ep("10.0.0.6", "zone-a", node="node-6")),
        slc("u2", ep("10.0.0.7", "zone-b", node="node-7"), ep("10.0.0.8", "zone-c", node="node-8")),
    ]
    out, events = compute_hints(svc(None, "PreferClose"), slices, [])
    assert [[z for _, z, _ in s] for s in hints(out)] == [
        [("zone-a",), ("zone-b",)], [("zone-a",), ("zone-b",)], [("zone-a",), ("zone-a",)], [("zone-b",), ("zone-c",)]]
    assert all(n is None for s in hints(out) for _, _, n in s)
    assert events == []  # trafficDistribution records no events


def test_prefer_close_corrects_incorrect_hints() -> None:
    slices = [slc("a", ep("10.0.0.1", "zone-a", node="node-1", zones=("zone-b",))),
              slc("b", ep("10.0.0.2", "zone-b", node="node-2", zones=("zone-c",))),
              slc("c", ep("10.0.0.3", "zone-c", node="node-3"))]
    out, _ = compute_hints(svc(None, "PreferClose"), slices, [])
    assert [z for s in hints(out) for _, z, _ in s] == [("zone-a",), ("zone-b",), ("zone-c",)]


def test_prefer_close_unready_endpoints_do_not_trigger_updates() -> None:
    slices = [slc("a", ep("10.0.0.2", "zone-b", node="node-2", ready=False)),
              slc("b", ep("10.0.0.3", "zone-b", zones=("zone-b",)), ep("10.0.0.4", "zone-b", ready=False,
                                                                       zones=("zone-x",)))]
    out, _ = compute_hints(svc(None, "PreferClose"), slices, [])
    assert out[0] is slices[0] and out[1] is slices[1]


@pytest.mark.parametrize("distribution", [None, "Unknown"], ids=["unset", "unrecognized"])
def test_hints_removed_without_usable_traffic_distribution(distribution: str | None) -> None:
    slices = [slc("a", ep("10.0.0.1", "zone-a", zones=("zone-a",)), ep("10.0.0.2", "zone-b", zones=("zone-b",))),
              slc("b", ep("10.0.0.5", "zone-a", zones=("zone-a",), nodes=("n",)))]
    out, events = compute_hints(svc(None, distribution), slices, [])
    assert all(z is None and n is None for s in hints(out) for _, z, n in s)
    assert events == []


def test_prefer_close_endpoint_without_zone_gets_no_hint_others_do() -> None:
    # Unlike the annotation's logic, one endpoint without a zone does not take the others' hints.
    slices = [slc("a", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", None, zones=("zone-a",)), ep("10.0.0.3", "zone-b"))]
    out, _ = compute_hints(svc(None, "PreferClose"), slices, [])
    assert hints(out) == [[("10.0.0.1", ("zone-a",), None), ("10.0.0.2", None, None), ("10.0.0.3", ("zone-b",), None)]]


def test_prefer_same_zone_is_prefer_close() -> None:
    slices = [slc("a", ep("10.0.0.1", "zone-a", node="n1", nodes=("n1",)))]
    out, _ = compute_hints(svc(None, "PreferSameZone"), slices, [])
    assert hints(out) == [[("10.0.0.1", ("zone-a",), None)]]  # a stale node hint goes too


def test_prefer_close_removes_stale_node_hints() -> None:
    stale = slc("a", ep("10.0.0.1", "zone-a", node="n1", zones=("zone-a",), nodes=("n1",)))
    out, _ = compute_hints(svc(None, "PreferClose"), [stale], [])
    assert hints(out) == [[("10.0.0.1", ("zone-a",), None)]]


def test_prefer_same_node() -> None:
    slices = [slc("a", ep("10.0.0.1", "zone-a", node="n1"), ep("10.0.0.2", "zone-a"), ep("10.0.0.3", None, node="n3"),
                  ep("10.0.0.4"), ep("10.0.0.5", "zone-b", node="n5", ready=False))]
    out, _ = compute_hints(svc(None, "PreferSameNode"), slices, [])
    assert hints(out) == [[("10.0.0.1", ("zone-a",), ("n1",)), ("10.0.0.2", ("zone-a",), None),
                           ("10.0.0.3", None, ("n3",)), ("10.0.0.4", None, None), ("10.0.0.5", None, None)]]


def test_prefer_same_node_correct_hints_kept() -> None:
    done = slc("a", ep("10.0.0.1", "zone-a", node="n1", zones=("zone-a",), nodes=("n1",)))
    out, _ = compute_hints(svc(None, "PreferSameNode"), [done], [])
    assert out[0] is done


def test_annotation_wins_over_traffic_distribution() -> None:
    slices = [slc("a", ep("10.0.0.1", "zone-a"), ep("10.0.0.2", "zone-a"))]
    out, events = compute_hints(svc(AUTO, "PreferClose"), slices, nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert [z for _, z, _ in hints(out)[0]] == [("zone-b",), ("zone-a",)]  # allocated, not own-zone
    assert events == [enabled()]


# --- mode selection


@pytest.mark.parametrize(("annotations", "distribution", "mode", "warns"), [
    ({}, None, MODE_NONE, None),
    ({TOPOLOGY_MODE_ANNOTATION: "Auto"}, None, MODE_AUTO, None),
    ({TOPOLOGY_MODE_ANNOTATION: "auto"}, None, MODE_AUTO, None),
    ({TOPOLOGY_MODE_ANNOTATION: "AUTO"}, None, MODE_NONE, "unsupported value"),
    ({TOPOLOGY_MODE_ANNOTATION: "PreferZone"}, None, MODE_NONE, "unsupported value"),
    ({TOPOLOGY_MODE_ANNOTATION: "Disabled"}, None, MODE_NONE, None),
    ({TOPOLOGY_MODE_ANNOTATION: ""}, None, MODE_NONE, None),
    ({DEPRECATED_HINTS_ANNOTATION: "auto"}, None, MODE_AUTO, None),
    ({DEPRECATED_HINTS_ANNOTATION: "Auto"}, None, MODE_AUTO, None),
    ({DEPRECATED_HINTS_ANNOTATION: "disabled"}, None, MODE_NONE, None),
    ({DEPRECATED_HINTS_ANNOTATION: "on"}, None, MODE_NONE, "unsupported value"),
    # the deprecated annotation wins when present, whatever it says
    ({DEPRECATED_HINTS_ANNOTATION: "disabled", TOPOLOGY_MODE_ANNOTATION: "Auto"}, None, MODE_NONE, "takes precedence"),
    ({DEPRECATED_HINTS_ANNOTATION: "", TOPOLOGY_MODE_ANNOTATION: "Auto"}, None, MODE_NONE, "takes precedence"),
    ({DEPRECATED_HINTS_ANNOTATION: "Auto", TOPOLOGY_MODE_ANNOTATION: "Disabled"}, None, MODE_AUTO, "takes precedence"),
    ({DEPRECATED_HINTS_ANNOTATION: "Auto", TOPOLOGY_MODE_ANNOTATION: "Auto"}, None, MODE_AUTO, None),
    ({}, "PreferClose", MODE_PREFER_CLOSE, None),
    ({}, "PreferSameZone", MODE_PREFER_CLOSE, None),
    ({}, "PreferSameNode", MODE_PREFER_SAME_NODE, None),
    ({}, "Unknown", MODE_NONE, None),
    ({TOPOLOGY_MODE_ANNOTATION: "Auto"}, "PreferSameNode", MODE_AUTO, "is ignored"),
    ({TOPOLOGY_MODE_ANNOTATION: "Disabled"}, "PreferSameNode", MODE_PREFER_SAME_NODE, None),
    ({TOPOLOGY_MODE_ANNOTATION: "Bogus"}, "PreferClose", MODE_PREFER_CLOSE, "unsupported value"),
    ({DEPRECATED_HINTS_ANNOTATION: "disabled", TOPOLOGY_MODE_ANNOTATION: "Auto"}, "PreferClose", MODE_PREFER_CLOSE,
     "takes precedence"),
])
def test_hints_mode(annotations: dict[str, str], distribution: str | None, mode: str, warns: str | None) -> None:
    got_mode, got_warning = hints_mode(svc(annotations, distribution))
    assert got_mode == mode
    if warns is None:
        assert got_warning is None
    else:
        assert got_warning is not None and warns in got_warning


def test_unknown_annotation_value_warning_text() -> None:
    _, message = hints_mode(svc({TOPOLOGY_MODE_ANNOTATION: "PreferZone"}))
    assert message == ('annotation service.kubernetes.io/topology-mode: unsupported value "PreferZone": Kubernetes '
                       'turns topology hints on only with "Auto" (or "auto") and treats any other value as disabled')


def test_unknown_annotation_value_removes_hints() -> None:
    slices = [slc("a", ep("10.0.0.1", "zone-a", zones=("zone-a",)), ep("10.0.0.2", "zone-b", zones=("zone-b",)))]
    out, events = compute_hints(svc({TOPOLOGY_MODE_ANNOTATION: "PreferZone"}), slices,
                                nodes_for({"zone-a": 1000, "zone-b": 1000}))
    assert all(z is None for s in hints(out) for _, z, _ in s)
    assert events == []


# --- output


def test_hinted_slices_json() -> None:
    s = EndpointSlice(
        Meta("s-1", "ns", {"kubernetes.io/service-name": "svc", MANAGED_BY_LABEL: K8S_CONTROLLER}), SRC, "svc", "IPv4",
        (EndpointPort("http", 8080, "TCP", "http"), EndpointPort("", None, "UDP", None)),
        (Endpoint(("10.0.0.1",), True, True, False, "n1", "zone-a", ("zone-a",), ("n1",), TargetRef("Pod", "ns", "p1")),
         Endpoint(("10.0.0.2",), None, None, None, None, None, None, None, None),
         Endpoint(("10.0.0.3",), False, None, None, None, None, (), None, None)))
    assert hinted_slices_json([s]) == [{
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "s-1", "namespace": "ns",
                     "labels": {"kubernetes.io/service-name": "svc", MANAGED_BY_LABEL: K8S_CONTROLLER}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"},
                  {"name": "", "protocol": "UDP"}],
        "endpoints": [
            {"addresses": ["10.0.0.1"], "conditions": {"ready": True, "serving": True, "terminating": False},
             "nodeName": "n1", "zone": "zone-a",
             "hints": {"forZones": [{"name": "zone-a"}], "forNodes": [{"name": "n1"}]},
             "targetRef": {"kind": "Pod", "namespace": "ns", "name": "p1"}},
            {"addresses": ["10.0.0.2"], "conditions": {}},
            {"addresses": ["10.0.0.3"], "conditions": {"ready": False}, "hints": {}},
        ],
    }]
    assert "ports" not in hinted_slices_json([slc("p")])[0]
