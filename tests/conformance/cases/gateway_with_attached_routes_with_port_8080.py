"""GatewayWithAttachedRoutesWithPort8080 (conformance/tests/gateway-with-attached-routes.go): of a
Gateway's two listeners (ports 8080 and 80), only the one the route names by sectionName counts it."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAY = Key(INFRA, "gateway-with-two-listeners-and-one-attached-route")
_OK = (Condition("Accepted", "True"), Condition("ResolvedRefs", "True"))


def body(t: Checks) -> None:
    t.gateway_listeners(GATEWAY, (ExpectedListener("http-unattached", 0, conditions=_OK),
                                  ExpectedListener("http", 1, conditions=_OK)))


TEST = ConformanceTest(
    short_name="GatewayWithAttachedRoutesWithPort8080",
    description="A Gateway in the gateway-conformance-infra namespace should be attached to routes.",
    manifests=("gateway-with-attached-routes-with-port-8080.yaml",),
    features=("Gateway", "GatewayPort8080", "HTTPRoute"),
    body=body,
    source="conformance/tests/gateway-with-attached-routes.go @ 4564255ac2c3",
)
