"""A weighted cluster's endpoint weights (xds/weighted_clusters.py): each backend's ready
endpoints together weigh its weight, at each priority, within Envoy's uint32 limit; weight-0
backends are not sent; the UDP listener names the cluster for make-before-break."""

from __future__ import annotations

from fractions import Fraction

from envoy.config.core.v3 import health_check_pb2
from envoy.config.endpoint.v3 import endpoint_pb2

from meshgate import ir
from meshgate.xds.listeners import listener
from meshgate.xds.references import listener_clusters
from meshgate.xds.weighted_clusters import MAX_TOTAL_WEIGHT, endpoint_weights, merged_assignment


def _shares(groups: list[tuple[int, int]], weights: list[int]) -> list[Fraction]:
    total = sum(w * n for w, (_, n) in zip(weights, groups))
    return [Fraction(w * n, total) for w, (_, n) in zip(weights, groups)]


def test_exact_weights_use_the_lcm_of_the_counts_reduced() -> None:
    # 70 over 2 endpoints, 30 over 3: 70·6/2 = 210 and 30·6/3 = 60, divided by 30.
    assert endpoint_weights([(70, 2), (30, 3)]) == [7, 2]
    assert endpoint_weights([(1, 1), (1, 1)]) == [1, 1]
    assert endpoint_weights([(5, 1)]) == [1]


def test_uneven_counts_keep_each_backends_share() -> None:
    groups = [(70, 7), (20, 4), (10, 9)]
    weights = endpoint_weights(groups)
    assert _shares(groups, weights) == [Fraction(7, 10), Fraction(2, 10), Fraction(1, 10)]


def test_weight_zero_and_empty_groups_get_zero() -> None:
    assert endpoint_weights([(70, 2), (0, 5), (30, 3), (10, 0)]) == [7, 0, 2, 0]
    assert endpoint_weights([(0, 3)]) == [0]
    assert endpoint_weights([]) == []


def test_totals_beyond_uint32_are_scaled_within_it() -> None:
    # Counts whose LCM is huge (distinct primes) and weights at the API's maximum.
    groups = [(1_000_000, 9973), (999_999, 9967), (1, 9949)]
    weights = endpoint_weights(groups)
    assert all(w >= 1 for w in weights)
    assert sum(w * n for w, (_, n) in zip(weights, groups)) <= MAX_TOTAL_WEIGHT
    for got, (want, _) in zip(_shares(groups, weights), groups):
        assert abs(float(got) - want / 2_000_000) < 0.001


def _cla(name: str, *localities: tuple[int, list[tuple[str, int]]]) -> endpoint_pb2.ClusterLoadAssignment:
    """Localities as (priority, [(address, health)])."""
    out = endpoint_pb2.ClusterLoadAssignment(cluster_name=name)
    for priority, endpoints in localities:
        lle = out.endpoints.add(priority=priority)
        lle.locality.zone = f"z-{name}-{priority}"
        lle.load_balancing_weight.value = 5  # a locality weight of the backend's own: not kept
        for address, health in endpoints:
            lb = lle.lb_endpoints.add(health_status=health)
            lb.endpoint.address.socket_address.address = address
            lb.endpoint.address.socket_address.port_value = 53
    return out


HEALTHY = health_check_pb2.HEALTHY
UNHEALTHY = health_check_pb2.UNHEALTHY


def _weights(cla: endpoint_pb2.ClusterLoadAssignment) -> dict[str, tuple[int, int]]:
    """address → (priority, weight)."""
    return {lb.endpoint.address.socket_address.address: (lle.priority, lb.load_balancing_weight.value)
            for lle in cla.endpoints for lb in lle.lb_endpoints}


def test_merged_assignment_weighs_each_backend_per_priority() -> None:
    a = _cla("a", (0, [("10.0.0.1", HEALTHY), ("10.0.0.2", UNHEALTHY)]), (1, [("10.0.0.3", HEALTHY)]))
    b = _cla("b", (0, [("10.0.1.1", HEALTHY), ("10.0.1.2", HEALTHY), ("10.0.1.3", HEALTHY)]))
    c = _cla("c", (0, [("10.0.2.1", HEALTHY)]))
    out = merged_assignment("w", [(70, a), (30, b), (0, c)])
    assert out.cluster_name == "w"
    # Priority 0: a's one ready endpoint weighs 70, b's three 10 each (reduced: 7 and 1); the
    # not-ready one goes along at a's weight; priority 1 holds a alone. c (weight 0) is absent.
    assert _weights(out) == {"10.0.0.1": (0, 7), "10.0.0.2": (0, 7), "10.0.0.3": (1, 7),
                             "10.0.1.1": (0, 1), "10.0.1.2": (0, 1), "10.0.1.3": (0, 1)}
    assert [lle.locality.zone for lle in out.endpoints] == ["z-a-0", "z-a-1", "z-b-0"]
    assert not any(lle.HasField("load_balancing_weight") for lle in out.endpoints)


def test_an_address_two_backends_share_is_one_endpoint_with_both_weights() -> None:
    a = _cla("a", (0, [("10.0.0.1", HEALTHY), ("10.0.0.9", HEALTHY)]))
    b = _cla("b", (0, [("10.0.0.9", HEALTHY)]))
    out = merged_assignment("w", [(1, a), (1, b)])
    # a: 1 each of 2 endpoints → 1, 1 (×1); b: its one endpoint → 2; 10.0.0.9 carries 1 + 2.
    assert _weights(out) == {"10.0.0.1": (0, 1), "10.0.0.9": (0, 3)}
    assert len(out.endpoints) == 1  # b's locality had nothing left of its own


def test_the_udp_listener_names_its_weighted_cluster() -> None:
    wc = ir.WeightedCluster("meshgate|udproute|ns|r", (), ir.SourceRef("UDPRoute", "gateway.networking.k8s.io/v1",
                                                                       "ns", "r"))
    chain = ir.FilterChain("udp/ns/r", "", tcp_backends=(ir.WeightedBackend(wc.name, 1),), weighted=wc)
    lst = listener(ir.Listener("0.0.0.0_5300_udp", "0.0.0.0", 5300, "UDP", (chain,)))
    assert listener_clusters(lst) == {"meshgate|udproute|ns|r"}
