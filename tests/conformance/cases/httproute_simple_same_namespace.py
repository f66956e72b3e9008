"""HTTPRouteSimpleSameNamespace (conformance/tests/httproute-simple-same-namespace.go): a route with one
backend attaches to a Gateway in its own namespace and serves `/`."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "gateway-conformance-infra-test")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASE = Expect(
    Request(path="/"),
    response=Response(status=200),
    backend="infra-backend-v1",
    name="Simple HTTP request should reach infra-backend",
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    t.expect(address, CASE)


TEST = ConformanceTest(
    short_name="HTTPRouteSimpleSameNamespace",
    description=("A single HTTPRoute in the gateway-conformance-infra namespace attaches to a Gateway "
                 "in the same namespace"),
    manifests=("httproute-simple-same-namespace.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-simple-same-namespace.go @ 10ff00eacba7b67f4d7aed05b22ae31b7c4da92b",
)
