"""UDPRouteInvalidCrossNamespaceBackendRef (conformance/tests/udproute-invalid-cross-namespace-backend-ref.go): A UDPRoute in the gateway-conformance-infra namespace should set ResolvedRefs=False with reason RefNotPermitted when its backendRef points to a Service in the gateway-conformance-app-backend namespace and no ReferenceGrant grants permission to that Service."""

from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "udp-gateway-invalid-cross-namespace-backend-ref")
    route = Key(INFRA, "udp-route-invalid-cross-namespace-backend-ref")
    t.gateway_and_routes_accepted(gw, route, route_kind="UDPRoute")
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "RefNotPermitted"), route_kind="UDPRoute")


TEST = ConformanceTest(
    short_name="UDPRouteInvalidCrossNamespaceBackendRef",
    description="A UDPRoute in the gateway-conformance-infra namespace should set ResolvedRefs=False with reason RefNotPermitted when its backendRef points to a Service in the gateway-conformance-app-backend namespace and no ReferenceGrant grants permission to that Service.",
    manifests=("udproute-invalid-cross-namespace-backend-ref.yaml",),
    features=('Gateway', 'UDPRoute', 'ReferenceGrant'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-invalid-cross-namespace-backend-ref.go @ 4564255ac2c3",
)
