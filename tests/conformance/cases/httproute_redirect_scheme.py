"""HTTPRouteRedirectScheme (conformance/tests/httproute-redirect-scheme.go): redirects to https, alone
and with a hostname and/or a status code."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "redirect-scheme")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/scheme"), response=Response(status=302), redirect=Redirect(scheme="https")),
    Expect(Request(path="/scheme-and-host"), response=Response(status=302),
           redirect=Redirect(scheme="https", host="example.org")),
    Expect(Request(path="/scheme-and-status"), response=Response(status=301), redirect=Redirect(scheme="https")),
    Expect(Request(path="/scheme-and-host-and-status"), response=Response(status=302),
           redirect=Redirect(scheme="https", host="example.org")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRedirectScheme",
    description="An HTTPRoute with a scheme redirect filter",
    manifests=("httproute-redirect-scheme.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteSchemeRedirect"),
    body=body,
    source="conformance/tests/httproute-redirect-scheme.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
