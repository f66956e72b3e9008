"""HTTPRouteInvalidParentRefSectionNameNotMatchingPort
(conformance/tests/httproute-invalid-parentref-section-name-not-matching-port.go): a route naming
listener http (port 80) and port 81 in one parentRef is not accepted (NoMatchingParent), and the
Gateway counts no route."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "httproute-listener-section-name-not-matching-port")
GATEWAY = Key(INFRA, "gateway-with-one-not-matching-port-and-section-name-route")


def body(t: Checks) -> None:
    t.route_condition(ROUTE, GATEWAY, Condition("Accepted", "False", "NoMatchingParent"))
    t.route_no_accepted_parents(ROUTE)
    t.gateway_zero_routes(GATEWAY)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidParentRefSectionNameNotMatchingPort",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to "
                "False with reason NoMatchingParent when attempting to bind to a Gateway that SectionName does not "
                "match Port value.",
    manifests=("httproute-invalid-parentref-section-name-not-matching-port.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteParentRefPort"),
    body=body,
    source="conformance/tests/httproute-invalid-parentref-section-name-not-matching-port.go @ 4564255ac2c3",
)
