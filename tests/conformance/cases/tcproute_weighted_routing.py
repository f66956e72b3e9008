"""TCPRouteWeightedRouting (conformance/tests/tcproute-weighted-routing.go): A TCPRoute with multiple weighted backends should distribute TCP traffic across the backends in proportion to the configured weights, and a backend with weight 0 should receive no traffic."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import expect_distribution, tcp_pod
from ..suite import Checks, ConformanceTest

WEIGHTS = {"tcp-backend-v1": 0.7, "tcp-backend-v2": 0.3, "tcp-backend-v3": 0.0}


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "tcp-weighted-gateway", ("tcp",))
    address = t.gateway_and_routes_accepted(gw, Key(INFRA, "tcp-weighted-route"), route_kind="TCPRoute")
    t.eventually(f"TCP echo answering on {address}", lambda: None if tcp_pod(address) else "no answer")
    expect_distribution(t, lambda: tcp_pod(address), WEIGHTS)


TEST = ConformanceTest(
    short_name="TCPRouteWeightedRouting",
    description="A TCPRoute with multiple weighted backends should distribute TCP traffic across the backends in proportion to the configured weights, and a backend with weight 0 should receive no traffic.",
    manifests=("tcproute-weighted-routing.yaml",),
    features=('Gateway', 'TCPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-weighted-routing.go @ 4564255ac2c3",
)
