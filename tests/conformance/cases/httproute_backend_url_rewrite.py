"""HTTPRouteBackendURLRewrite (conformance/tests/httproute-backend-url-rewrite.go): URLRewrite filters set on a backendRef."""

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "backend-url-rewrite")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/full/original"), expected_request=ExpectedRequest(path="/rewritten-full"),
           backend="infra-backend-v1"),
    Expect(Request(path="/prefix/original"), expected_request=ExpectedRequest(path="/rewritten-prefix/original"),
           backend="infra-backend-v1"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteBackendURLRewrite",
    description="An HTTPRoute with URLRewrite filter applied at the BackendRef level",
    manifests=("httproute-backend-url-rewrite.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteBackendURLRewrite"),
    body=body,
    source="conformance/tests/httproute-backend-url-rewrite.go @ 2860915281710b35c1cf139714d3a5efd8875786",
)
