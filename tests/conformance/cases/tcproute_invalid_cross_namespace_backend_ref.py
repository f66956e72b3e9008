"""TCPRouteInvalidCrossNamespaceBackendRef (conformance/tests/tcproute-invalid-cross-namespace-backend-ref.go): A TCPRoute in the gateway-conformance-infra namespace with a backendRef in the gateway-conformance-web-backend namespace and no matching ReferenceGrant should set ResolvedRefs=False with reason RefNotPermitted."""

from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "tcp-invalid-cross-namespace-backend-ref-gateway", ("tcp",))
    route = Key(INFRA, "tcp-invalid-cross-namespace-backend-ref")
    t.gateway_and_routes_accepted(gw, route, route_kind="TCPRoute")
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "RefNotPermitted"), route_kind="TCPRoute")


TEST = ConformanceTest(
    short_name="TCPRouteInvalidCrossNamespaceBackendRef",
    description="A TCPRoute in the gateway-conformance-infra namespace with a backendRef in the gateway-conformance-web-backend namespace and no matching ReferenceGrant should set ResolvedRefs=False with reason RefNotPermitted.",
    manifests=("tcproute-invalid-cross-namespace-backend-ref.yaml",),
    features=('Gateway', 'TCPRoute', 'ReferenceGrant'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-invalid-cross-namespace-backend-ref.go @ 4564255ac2c3",
)
