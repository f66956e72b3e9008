"""HTTPRouteExactPathMatching (conformance/tests/httproute-exact-path-matching.go): Exact path matches are
case-sensitive and match neither sub-paths nor a trailing slash."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "exact-matching")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/one"), backend="infra-backend-v1"),
    Expect(Request(path="/two"), backend="infra-backend-v2"),
    Expect(Request(path="/"), response=Response(status=404)),
    Expect(Request(path="/one/example"), response=Response(status=404)),
    Expect(Request(path="/two/"), response=Response(status=404)),
    Expect(Request(path="/Two"), response=Response(status=404)),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteExactPathMatching",
    description="A single HTTPRoute with exact path matching for different backends",
    manifests=("httproute-exact-path-matching.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-exact-path-matching.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
