"""HTTPRouteNamedRule (conformance/tests/httproute-named-rule.go): a route whose rules are named and unnamed
is accepted and both rules forward."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "http-named-rules")
GATEWAY = GatewayRef(INFRA, "same-namespace")

# The Go cases assert neither backend: only status 200 and the namespace.
CASES = (
    Expect(Request(path="/named"), response=Response(status=200), namespace=INFRA),
    Expect(Request(path="/unnamed"), response=Response(status=200), namespace=INFRA),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteNamedRule",
    description="An HTTPRoute with a named HTTPRouteRule",
    manifests=("httproute-named-rule.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteNamedRouteRule"),
    body=body,
    provisional=True,
    source="conformance/tests/httproute-named-rule.go @ 1e3081bcf2700a84c6a66cf9b52b56974d4aa12f",
)
