"""HTTPRouteMatchingAcrossRoutes (conformance/tests/httproute-matching-across-routes.go): match precedence
is computed across two routes with overlapping hostnames."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE_1 = Key(INFRA, "matching-part1")
ROUTE_2 = Key(INFRA, "matching-part2")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(host="example.com", path="/"), backend="infra-backend-v1"),
    Expect(Request(host="example.com", path="/example"), backend="infra-backend-v1"),
    Expect(Request(host="example.net", path="/example"), backend="infra-backend-v1"),
    Expect(Request(host="example.com", path="/example", headers={"Version": "one"}), backend="infra-backend-v1"),
    Expect(Request(host="example.com", path="/v2"), backend="infra-backend-v2"),
    # v2 matches are limited to example.com.
    Expect(Request(host="example.net", path="/v2"), backend="infra-backend-v1"),
    Expect(Request(host="example.com", path="/v2/example"), backend="infra-backend-v2"),
    Expect(Request(host="example.com", path="/", headers={"Version": "two"}), backend="infra-backend-v2"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE_1, ROUTE_2)
    t.route_resolved_refs(ROUTE_1, GATEWAY.key)
    t.route_resolved_refs(ROUTE_2, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteMatchingAcrossRoutes",
    description="Two HTTPRoutes with path matching for different backends",
    manifests=("httproute-matching-across-routes.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-matching-across-routes.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
