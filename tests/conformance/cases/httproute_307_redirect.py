"""HTTPRoute307Redirect (conformance/tests/httproute-307-redirect.go): a RequestRedirect with statusCode 307."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

# Every stored Go version names the route "redirect-path" (a copy-paste slip that the 303 and 308
# tests had too and later fixed); the pinned manifest names it "307-redirect", as the 303/308 fixes do.
ROUTE = Key(INFRA, "307-redirect")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/temporary"), response=Response(status=307), redirect=Redirect(path="/temporary")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRoute307Redirect",
    description="An HTTPRoute with a 307 path redirect filter",
    manifests=("httproute-307-redirect.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoute307RedirectStatusCode"),
    body=body,
    provisional=True,
    source="conformance/tests/httproute-307-redirect.go @ 2396b992439549d58cc27f8fc50b7c69b360b555"
           " (route name taken from the pinned YAML)",
)
