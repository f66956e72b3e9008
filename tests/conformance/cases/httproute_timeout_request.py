"""HTTPRouteTimeoutRequest (conformance/tests/httproute-timeout-request.go): a 500ms request timeout
turns a 1s backend delay into a 504; a 0s timeout disables it."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "request-timeout")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/request-timeout"), response=Response(status=200)),
    Expect(Request(path="/request-timeout?delay=1s"), response=Response(status=504)),
    Expect(Request(path="/disable-request-timeout?delay=1s"), response=Response(status=200)),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteTimeoutRequest",
    description="An HTTPRoute with request timeout",
    manifests=("httproute-timeout-request.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRequestTimeout"),
    body=body,
    source="conformance/tests/httproute-timeout-request.go @ 0c87f4c12b824bcc5db972ace7ea64075e432120",
)
