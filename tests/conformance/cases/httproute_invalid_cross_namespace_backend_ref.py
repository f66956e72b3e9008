"""HTTPRouteInvalidCrossNamespaceBackendRef (conformance/tests/httproute-invalid-cross-namespace-backend-ref.go):
a backendRef into another namespace with no ReferenceGrant gives ResolvedRefs=False/RefNotPermitted and a 500."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "invalid-cross-namespace-backend-ref")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_PERMITTED = Condition("ResolvedRefs", "False", "RefNotPermitted")

CASE = Expect(Request(method="GET", path="/"), response=Response(status=500),
              name="HTTP Request to invalid cross-namespace backend must receive a 500")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_condition(ROUTE, GATEWAY.key, NOT_PERMITTED)
    t.expect(address, CASE)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidCrossNamespaceBackendRef",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status "
                "False with reason RefNotPermitted when attempting to bind to a Gateway in the same namespace if the "
                "route has a BackendRef Service in the gateway-conformance-web-backend namespace and a "
                "ReferenceGrant granting permission to route to that Service does not exist",
    manifests=("httproute-invalid-cross-namespace-backend-ref.yaml",),
    features=("Gateway", "HTTPRoute", "ReferenceGrant"),
    body=body,
    source="conformance/tests/httproute-invalid-cross-namespace-backend-ref.go"
           " @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
