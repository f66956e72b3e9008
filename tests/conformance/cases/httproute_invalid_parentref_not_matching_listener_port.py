"""HTTPRouteInvalidParentRefNotMatchingListenerPort
(conformance/tests/httproute-invalid-parentref-not-matching-listener-port.go): a route whose
parentRef names port 81, where the Gateway has no listener, resolves its backends but is not
accepted (NoMatchingParent), and the Gateway counts no route."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "httproute-listener-not-matching-route-port")
GATEWAY = Key(INFRA, "same-namespace")


def body(t: Checks) -> None:
    t.route_resolved_refs(ROUTE, GATEWAY)
    t.route_condition(ROUTE, GATEWAY, Condition("Accepted", "False", "NoMatchingParent"))
    t.route_no_accepted_parents(ROUTE)
    t.gateway_zero_routes(GATEWAY)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidParentRefNotMatchingListenerPort",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to "
                "False with reason NoMatchingParent when attempting to bind to a Gateway that does not have a "
                "matching ListenerPort.",
    manifests=("httproute-invalid-parentref-not-matching-listener-port.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteDestinationPortMatching"),
    body=body,
    source="conformance/tests/httproute-invalid-parentref-not-matching-listener-port.go @ 4564255ac2c3",
)
