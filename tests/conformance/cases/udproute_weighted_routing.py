"""UDPRouteWeightedRouting (conformance/tests/udproute-weighted-routing.go): A UDPRoute with multiple weighted backends should distribute UDP traffic across the backends in proportion to the configured weights, and a backend with weight 0 should not receive any traffic."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_clients import udp_echo
from ..stream_route_checks import expect_distribution
from ..suite import Checks, ConformanceTest

WEIGHTS = {"udp-backend-v1": 0.7, "udp-backend-v2": 0.3, "udp-backend-v3": 0.0}
PROBE = b"gateway-api-conformance-udp-weight\n"  # udpEchoSendOnce's datagram, each from a new socket


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "udp-weighted-gateway", ("udp",))
    address = t.gateway_and_routes_accepted(gw, Key(INFRA, "udp-weighted-route"), route_kind="UDPRoute")
    t.expect_udp(address)
    expect_distribution(t, lambda: str(udp_echo(address, PROBE).get("pod", "")), WEIGHTS)


TEST = ConformanceTest(
    short_name="UDPRouteWeightedRouting",
    description="A UDPRoute with multiple weighted backends should distribute UDP traffic across the backends in proportion to the configured weights, and a backend with weight 0 should not receive any traffic.",
    manifests=("udproute-weighted-routing.yaml",),
    features=('Gateway', 'UDPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-weighted-routing.go @ 4564255ac2c3",
)
