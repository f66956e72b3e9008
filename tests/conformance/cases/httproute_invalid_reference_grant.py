"""HTTPRouteInvalidReferenceGrant (conformance/tests/httproute-invalid-reference-grant.go): seven
ReferenceGrants, each wrong in one field, must not permit the cross-namespace backendRef
(ResolvedRefs=False/RefNotPermitted, requests get a 500)."""

from ..expect import INFRA, WEB_BACKEND, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "reference-grant")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_PERMITTED = Condition("ResolvedRefs", "False", "RefNotPermitted")

# The Go case names the backend, but a 500 expectation only compares the status code.
CASE = Expect(Request(method="GET", path="/"), response=Response(status=500), backend="web-backend",
              namespace=WEB_BACKEND, name="Simple HTTP request not should reach web-backend")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_condition(ROUTE, GATEWAY.key, NOT_PERMITTED)
    t.expect(address, CASE)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidReferenceGrant",
    description="A single HTTPRoute in the gateway-conformance-infra namespace, with a backendRef in another "
                "namespace without valid ReferenceGrant, should have the ResolvedRefs condition set to False and "
                "not forward HTTP requests to any backend",
    manifests=("httproute-invalid-reference-grant.yaml",),
    features=("Gateway", "HTTPRoute", "ReferenceGrant"),
    body=body,
    source="conformance/tests/httproute-invalid-reference-grant.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
