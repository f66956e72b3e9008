"""HTTPRouteMatching (conformance/tests/httproute-matching.go): path and header matches in one route."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "matching")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/"), backend="infra-backend-v1"),
    Expect(Request(path="/example"), backend="infra-backend-v1"),
    Expect(Request(path="/", headers={"Version": "one"}), backend="infra-backend-v1"),
    Expect(Request(path="/v2"), backend="infra-backend-v2"),
    Expect(Request(path="/v2/example"), backend="infra-backend-v2"),
    Expect(Request(path="/", headers={"Version": "two"}), backend="infra-backend-v2"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteMatching",
    description="A single HTTPRoute with path and header matching for different backends",
    manifests=("httproute-matching.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
)
