"""HTTPRoute303Redirect (conformance/tests/httproute-303-redirect.go): a RequestRedirect with statusCode 303."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "303-redirect")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/see-other", method="POST"), response=Response(status=303),
           redirect=Redirect(path="/see-other")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRoute303Redirect",
    description="An HTTPRoute with a 303 redirect filter",
    manifests=("httproute-303-redirect.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoute303RedirectStatusCode"),
    body=body,
    provisional=True,
    source="conformance/tests/httproute-303-redirect.go @ 1e3081bcf2700a84c6a66cf9b52b56974d4aa12f",
)
