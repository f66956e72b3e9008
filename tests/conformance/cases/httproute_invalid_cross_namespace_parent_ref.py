"""HTTPRouteInvalidCrossNamespaceParentRef (conformance/tests/httproute-invalid-cross-namespace-parent-ref.go):
a route in gateway-conformance-web-backend naming the same-namespace Gateway of the infra
namespace (whose listener allows its own namespace only) resolves its references but is not
accepted (NotAllowedByListeners), and the Gateway counts no route."""

from ..expect import INFRA, WEB_BACKEND, Key
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(WEB_BACKEND, "invalid-cross-namespace-parent-ref")
GATEWAY = Key(INFRA, "same-namespace")


def body(t: Checks) -> None:
    t.route_resolved_refs(ROUTE, GATEWAY)
    t.route_condition(ROUTE, GATEWAY, Condition("Accepted", "False", "NotAllowedByListeners"))
    t.route_no_accepted_parents(ROUTE)
    t.gateway_zero_routes(GATEWAY)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidCrossNamespaceParentRef",
    description="A single HTTPRoute in the gateway-conformance-web-backend namespace should fail to attach to a "
                "Gateway in another namespace that it is not allowed to",
    manifests=("httproute-invalid-cross-namespace-parent-ref.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-invalid-cross-namespace-parent-ref.go @ 4564255ac2c3",
)
