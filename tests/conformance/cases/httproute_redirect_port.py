"""HTTPRouteRedirectPort (conformance/tests/httproute-redirect-port.go): redirects to port 8083, alone
and with a hostname and/or a status code."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "redirect-port")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/port"), response=Response(status=302), redirect=Redirect(port="8083")),
    Expect(Request(path="/port-and-host"), response=Response(status=302),
           redirect=Redirect(host="example.org", port="8083")),
    Expect(Request(path="/port-and-status"), response=Response(status=301), redirect=Redirect(port="8083")),
    Expect(Request(path="/port-and-host-and-status"), response=Response(status=302),
           redirect=Redirect(host="example.org", port="8083")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRedirectPort",
    description="An HTTPRoute with a port redirect filter",
    manifests=("httproute-redirect-port.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoutePortRedirect"),
    body=body,
    source="conformance/tests/httproute-redirect-port.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
