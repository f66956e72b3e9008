"""HTTPRouteInvalidBackendRefUnknownKind (conformance/tests/httproute-invalid-backendref-unknown-kind.go):
a backendRef of an unknown group/kind gives ResolvedRefs=False/InvalidKind and a 500."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "invalid-backend-ref-unknown-kind")
GATEWAY = GatewayRef(INFRA, "same-namespace")

INVALID_KIND = Condition("ResolvedRefs", "False", "InvalidKind")

CASE = Expect(Request(method="GET", path="/v2"), response=Response(status=500),
              name="HTTP Request to invalid backend with invalid Kind receives a 500")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_condition(ROUTE, GATEWAY.key, INVALID_KIND)
    t.expect(address, CASE)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidBackendRefUnknownKind",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status "
                "False with reason InvalidKind when attempting to bind to a Gateway in the same namespace if the "
                "route has a BackendRef that points to an unknown Kind.",
    manifests=("httproute-invalid-backendref-unknown-kind.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-invalid-backendref-unknown-kind.go"
           " @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
