"""HTTPRouteHeaderMatching (conformance/tests/httproute-header-matching.go): header matches, ANDed within
a match and ORed across matches; more matching headers win, then the earlier rule."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "header-matching")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_FOUND = Response(status=404)

CASES = (
    Expect(Request(path="/", headers={"Version": "one"}), backend="infra-backend-v1"),
    Expect(Request(path="/", headers={"Version": "two"}), backend="infra-backend-v2"),
    Expect(Request(path="/", headers={"Version": "two", "Color": "orange"}), backend="infra-backend-v1"),
    Expect(Request(path="/", headers={"Version": "two", "Color": "blue"}), backend="infra-backend-v2"),
    Expect(Request(path="/", headers={"Color": "orange"}), response=NOT_FOUND),
    Expect(Request(path="/", headers={"Some-Other-Header": "one"}), response=NOT_FOUND),
    Expect(Request(path="/", headers={"Color": "blue"}), backend="infra-backend-v1"),
    Expect(Request(path="/", headers={"Color": "green"}), backend="infra-backend-v1"),
    Expect(Request(path="/", headers={"Color": "red"}), backend="infra-backend-v2"),
    Expect(Request(path="/", headers={"Color": "yellow"}), backend="infra-backend-v2"),
    Expect(Request(path="/", headers={"Color": "purple"}), response=NOT_FOUND),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteHeaderMatching",
    description="A single HTTPRoute with header matching for different backends",
    manifests=("httproute-header-matching.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-header-matching.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
