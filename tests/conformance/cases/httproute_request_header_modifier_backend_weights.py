"""HTTPRouteRequestHeaderModifierBackendWeights (conformance/tests/httproute-request-header-modifier-backend-weights.go): each weighted backendRef applies its own header modifier."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "request-header-modifier-backend-weights")
GATEWAY = GatewayRef(INFRA, "same-namespace")

REQUEST = Request(path="/")
# The route must answer before the distribution is looked at.
READY = Expect(REQUEST, namespace=INFRA)
ATTEMPTS = 100


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    t.expect(address, READY)
    for reply in t.requests(address, REQUEST, ATTEMPTS, 1):
        echo = reply.echo or {}
        backends = (echo.get("headers") or {}).get("Backend", [])
        if len(backends) != 1:
            t.fail(f"expected a single 'backend' header to have been set, got {len(backends)} "
                   f"(status {reply.status}: {reply.body[:120]!r})")
            return
        pod = echo.get("pod", "")
        if not pod.startswith(backends[0]):
            t.fail("expected the backendRef to have set the correct headers and sent the request to the correct pod,"
                   f" got {pod!r}, want {backends[0]!r}")
            return


TEST = ConformanceTest(
    short_name="HTTPRouteRequestHeaderModifierBackendWeights",
    description="An HTTPRoute with backend request header modifier filter sends traffic to the correct backends",
    manifests=("httproute-request-header-modifier-backend-weights.yaml",),
    features=("Gateway", "HTTPRouteBackendRequestHeaderModification", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-request-header-modifier-backend-weights.go @ 9fe0daaca954d6878545a1cdc7a4d0665660b35b",
)
