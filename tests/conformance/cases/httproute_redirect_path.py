"""HTTPRouteRedirectPath (conformance/tests/httproute-redirect-path.go): redirects that replace the
path prefix or the full path, alone and with a hostname or a status code."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "redirect-path")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/original-prefix/lemon"), response=Response(status=302),
           redirect=Redirect(path="/replacement-prefix/lemon")),
    Expect(Request(path="/full/path/original"), response=Response(status=302),
           redirect=Redirect(path="/full-path-replacement")),
    Expect(Request(path="/path-and-host"), response=Response(status=302),
           redirect=Redirect(host="example.org", path="/replacement-prefix")),
    Expect(Request(path="/path-and-status"), response=Response(status=301),
           redirect=Redirect(path="/replacement-prefix")),
    Expect(Request(path="/full-path-and-host"), response=Response(status=302),
           redirect=Redirect(host="example.org", path="/replacement-full")),
    Expect(Request(path="/full-path-and-status"), response=Response(status=301),
           redirect=Redirect(path="/replacement-full")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRedirectPath",
    description="An HTTPRoute with scheme redirect filter",
    manifests=("httproute-redirect-path.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoutePathRedirect"),
    body=body,
    source="conformance/tests/httproute-redirect-path.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
