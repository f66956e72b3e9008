"""HTTPRouteCrossNamespace (conformance/tests/httproute-cross-namespace.go): a route in the web-backend
namespace attaches to a Gateway in the infra namespace and reaches its own-namespace backend."""

from ..expect import INFRA, WEB_BACKEND, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest

ROUTE = Key(WEB_BACKEND, "cross-namespace")
GATEWAY = GatewayRef(INFRA, "backend-namespaces")

CASE = Expect(Request(path="/"), backend="web-backend", namespace=WEB_BACKEND,
              name="Simple HTTP request should reach web-backend")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    t.expect(address, CASE)


TEST = ConformanceTest(
    short_name="HTTPRouteCrossNamespace",
    description="A single HTTPRoute in the gateway-conformance-web-backend namespace should attach to Gateway in "
                "another namespace",
    manifests=("httproute-cross-namespace.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-cross-namespace.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
