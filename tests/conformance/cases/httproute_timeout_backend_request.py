"""HTTPRouteTimeoutBackendRequest (conformance/tests/httproute-timeout-backend-request.go): a 500ms
backendRequest timeout turns a 1s backend delay into a 504; a 0s timeout disables it."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "backend-request-timeout")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/backend-timeout"), response=Response(status=200)),
    Expect(Request(path="/backend-timeout?delay=1s"), response=Response(status=504)),
    Expect(Request(path="/disable-backend-timeout?delay=1s"), response=Response(status=200)),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteTimeoutBackendRequest",
    description="An HTTPRoute with backend request timeout",
    manifests=("httproute-timeout-backend-request.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteBackendTimeout"),
    body=body,
    source="conformance/tests/httproute-timeout-backend-request.go @ kubernetes-sigs/gateway-api, newest copy"
           " in the code index (commit not named); the stored cb49f60ec9f5 has only the first two cases",
)
