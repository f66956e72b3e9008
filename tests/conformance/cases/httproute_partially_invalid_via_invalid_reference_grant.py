"""HTTPRoutePartiallyInvalidViaInvalidReferenceGrant
(conformance/tests/httproute-partially-invalid-via-invalid-reference-grant.go): a ReferenceGrant that covers
only app-backend-v1; the rule to app-backend-v2 gets a 500, the sibling rule to app-backend-v1 still works."""

from ..expect import APP_BACKEND, INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "invalid-reference-grant")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_PERMITTED = Condition("ResolvedRefs", "False", "RefNotPermitted")

CASES = (
    Expect(Request(method="GET", path="/v2"), response=Response(status=500),
           name="HTTP Request to invalid backend with missing referenceGrant should receive a 500"),
    Expect(Request(method="GET", path="/"), response=Response(status=200), backend="app-backend-v1",
           namespace=APP_BACKEND, name="HTTP Request to valid sibling backend should succeed"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_condition(ROUTE, GATEWAY.key, NOT_PERMITTED)
    for case in CASES:
        t.expect(address, case)


TEST = ConformanceTest(
    short_name="HTTPRoutePartiallyInvalidViaInvalidReferenceGrant",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should attach to a Gateway in the "
                "same namespace if the route has a backendRef Service in the gateway-conformance-app-backend "
                "namespace and a ReferenceGrant exists but does not grant permission to route to that specific "
                "Service",
    manifests=("httproute-partially-invalid-via-invalid-reference-grant.yaml",),
    features=("Gateway", "HTTPRoute", "ReferenceGrant"),
    body=body,
    source="conformance/tests/httproute-partially-invalid-via-invalid-reference-grant.go"
           " @ 6099e466b2adf8f5bfc0324bcd8532d1ab76c3a7",
)
