"""HTTPRouteInvalidNonExistentBackendRef (conformance/tests/httproute-invalid-nonexistent-backendref.go):
a backendRef to a Service that does not exist gives ResolvedRefs=False/BackendNotFound and a 500."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "invalid-nonexistent-backend-ref")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_FOUND = Condition("ResolvedRefs", "False", "BackendNotFound")

CASE = Expect(Request(method="GET", path="/"), response=Response(status=500),
              name="HTTP Request to invalid nonexistent backend receive a 500")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_condition(ROUTE, GATEWAY.key, NOT_FOUND)
    t.expect(address, CASE)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidNonExistentBackendRef",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status "
                "False with reason BackendNotFound and return 500 when binding to a Gateway in the same namespace if "
                "the route has a BackendRef Service that does not exist",
    manifests=("httproute-invalid-nonexistent-backendref.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-invalid-nonexistent-backendref.go"
           " @ 6099e466b2adf8f5bfc0324bcd8532d1ab76c3a7",
)
