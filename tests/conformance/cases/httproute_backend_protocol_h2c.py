"""HTTPRouteBackendProtocolH2C (conformance/tests/httproute-backend-protocol-h2c.go): a backendRef to a Service port with appProtocol kubernetes.io/h2c."""

from ..expect import H2C_PRIOR_KNOWLEDGE, INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backend-protocol-h2c")
GATEWAY = GatewayRef(INFRA, "same-namespace")

# HTTP/2 with prior knowledge to the Gateway (roundtripper.H2CPriorKnowledgeProtocol); the route's
# backendRef is infra-backend-v1's second-port (appProtocol kubernetes.io/h2c, targetPort 3001:
# echo-basic's h2c port, which refuses HTTP/1.1).
PRIOR_KNOWLEDGE = Expect(
    Request(path="/", protocol=H2C_PRIOR_KNOWLEDGE),
    response=Response(status=200),
    backend="infra-backend-v1",
    namespace=INFRA,
    name="http2 prior knowledge request should reach backend",
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.expect(address, PRIOR_KNOWLEDGE)


TEST = ConformanceTest(
    short_name="HTTPRouteBackendProtocolH2C",
    description="A HTTPRoute with a BackendRef that has an appProtocol kubernetes.io/h2c should be functional",
    manifests=("httproute-backend-protocol-h2c.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteBackendProtocolH2C"),
    body=body,
    source="conformance/tests/httproute-backend-protocol-h2c.go @ newer version in the code index (file id 1838372362); same assertions as 2a2088f7df71269e5bec1116e66a903600153e2c",
)
