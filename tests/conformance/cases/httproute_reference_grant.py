"""HTTPRouteReferenceGrant (conformance/tests/httproute-reference-grant.go): a ReferenceGrant lets an infra
route reach web-backend; once the grant is deleted the same request must get a 500."""

from ..expect import INFRA, WEB_BACKEND, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "reference-grant")
GATEWAY = GatewayRef(INFRA, "same-namespace")
GRANT = Key(WEB_BACKEND, "reference-grant")

WITH_GRANT = Expect(Request(method="GET", path="/"), response=Response(status=200), backend="web-backend",
                    namespace=WEB_BACKEND, name="Simple HTTP request should reach web-backend")
WITHOUT_GRANT = Expect(Request(method="GET", path="/"), response=Response(status=500),
                       name="Simple HTTP request should return 500 after deleting the relevant reference grant")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    t.expect(address, WITH_GRANT)
    t.delete("ReferenceGrant", GRANT)
    t.expect(address, WITHOUT_GRANT)


TEST = ConformanceTest(
    short_name="HTTPRouteReferenceGrant",
    description="A single HTTPRoute in the gateway-conformance-infra namespace, with a backendRef in the "
                "gateway-conformance-web-backend namespace, should attach to Gateway in the "
                "gateway-conformance-infra namespace",
    manifests=("httproute-reference-grant.yaml",),
    features=("Gateway", "HTTPRoute", "ReferenceGrant"),
    body=body,
    source="conformance/tests/httproute-reference-grant.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
