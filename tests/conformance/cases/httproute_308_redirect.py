"""HTTPRoute308Redirect (conformance/tests/httproute-308-redirect.go): a RequestRedirect with statusCode 308."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "308-redirect")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/permanent"), response=Response(status=308), redirect=Redirect(path="/permanent")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRoute308Redirect",
    description="An HTTPRoute with a 308 path redirect filter",
    manifests=("httproute-308-redirect.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoute308RedirectStatusCode"),
    body=body,
    provisional=True,
    source="conformance/tests/httproute-308-redirect.go @ 1e3081bcf2700a84c6a66cf9b52b56974d4aa12f",
)
