"""HTTPRouteRedirectHostAndStatus (conformance/tests/httproute-redirect-host-and-status.go): redirects
to another hostname, with the default (302) and an explicit (301) status code."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "redirect-host-and-status")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/hostname-redirect"), response=Response(status=302),
           redirect=Redirect(host="example.org")),
    Expect(Request(path="/host-and-status"), response=Response(status=301),
           redirect=Redirect(host="example.org")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRedirectHostAndStatus",
    description="An HTTPRoute with hostname and statusCode redirect filters",
    manifests=("httproute-redirect-host-and-status.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-redirect-host-and-status.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
