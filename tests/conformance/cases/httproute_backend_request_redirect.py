"""HTTPRouteBackendRequestRedirect (conformance/tests/httproute-backend-request-redirect.go): a
RequestRedirect filter placed on a backendRef rather than on the rule."""

from ..expect import INFRA, Expect, GatewayRef, Key, Redirect, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "backend-request-redirect")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/full/original"), response=Response(status=302),
           redirect=Redirect(path="/redirected-full")),
    Expect(Request(path="/prefix/original"), response=Response(status=302),
           redirect=Redirect(path="/redirected-prefix/original")),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteBackendRequestRedirect",
    description="An HTTPRoute with RequestRedirect filter applied at the BackendRef level",
    manifests=("httproute-backend-request-redirect.yaml",),
    # features.SupportHTTPRouteBackendRequestRedirect; its string value is not in the index and is
    # assumed to follow the usual naming.
    features=("Gateway", "HTTPRoute", "HTTPRouteBackendRequestRedirect"),
    body=body,
    source="conformance/tests/httproute-backend-request-redirect.go @ kubernetes-sigs/gateway-api, a newer copy"
           " in the code index (commit not named); the stored 04ddcbcddaa3 version is an older, unrelated test",
)
