"""UDPRoute (conformance/tests/udproute-simple.go): Make sure UDPRoute is working"""

from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "udp-gateway"), Key(INFRA, "udp-coredns"),
                                            route_kind="UDPRoute")
    t.expect_dns(address, "foo.bar.com.")


TEST = ConformanceTest(
    short_name="UDPRoute",
    description="Make sure UDPRoute is working",
    manifests=("udproute-simple.yaml",),
    features=('UDPRoute', 'Gateway'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-simple.go @ 4564255ac2c3",
)
