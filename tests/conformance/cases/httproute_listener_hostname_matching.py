"""HTTPRouteListenerHostnameMatching (conformance/tests/httproute-listener-hostname-matching.go): listeners
on one port with different hostnames each route to their own HTTPRoute (attached by sectionName)."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE_1 = Key(INFRA, "backend-v1")
ROUTE_2 = Key(INFRA, "backend-v2")
ROUTE_3 = Key(INFRA, "backend-v3")
GATEWAY_NAME = "httproute-listener-hostname-matching"
GATEWAY = Key(INFRA, GATEWAY_NAME)

NOT_FOUND = Response(status=404)

CASES = (
    Expect(Request(host="bar.com", path="/"), backend="infra-backend-v1"),
    Expect(Request(host="foo.bar.com", path="/"), backend="infra-backend-v2"),
    Expect(Request(host="baz.bar.com", path="/"), backend="infra-backend-v3"),
    Expect(Request(host="boo.bar.com", path="/"), backend="infra-backend-v3"),
    Expect(Request(host="multiple.prefixes.bar.com", path="/"), backend="infra-backend-v3"),
    Expect(Request(host="multiple.prefixes.foo.com", path="/"), backend="infra-backend-v3"),
    Expect(Request(host="foo.com", path="/"), response=NOT_FOUND),
    Expect(Request(host="no.matching.host", path="/"), response=NOT_FOUND),
)


def body(t: Checks) -> None:
    t.gateway_and_routes_accepted(GatewayRef(INFRA, GATEWAY_NAME, ("listener-1",)), ROUTE_1)
    t.route_resolved_refs(ROUTE_1, GATEWAY)

    t.gateway_and_routes_accepted(GatewayRef(INFRA, GATEWAY_NAME, ("listener-2",)), ROUTE_2)
    t.route_resolved_refs(ROUTE_2, GATEWAY)

    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, GATEWAY_NAME, ("listener-3", "listener-4")), ROUTE_3)
    t.route_resolved_refs(ROUTE_3, GATEWAY)

    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteListenerHostnameMatching",
    description="Multiple HTTP listeners with the same port and different hostnames, each with a different HTTPRoute",
    manifests=("httproute-listener-hostname-matching.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source=("conformance/tests/httproute-listener-hostname-matching.go @ stored features.FeatureName version "
            "(index id 2388605074, commit not reported; same cases as 0cfa8673e3dc4a590cfcea4ec6696f0c02d45186)"),
)
