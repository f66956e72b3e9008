"""HTTPRouteInvalidParentRefNotMatchingSectionName
(conformance/tests/httproute-invalid-parentref-not-matching-section-name.go): a route naming a
listener (sectionName http1) the Gateway does not have is not accepted (NoMatchingParent), and the
Gateway counts no route."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "httproute-listener-not-matching-section-name")
GATEWAY = Key(INFRA, "same-namespace")


def body(t: Checks) -> None:
    t.route_condition(ROUTE, GATEWAY, Condition("Accepted", "False", "NoMatchingParent"))
    t.route_no_accepted_parents(ROUTE)
    t.gateway_zero_routes(GATEWAY)


TEST = ConformanceTest(
    short_name="HTTPRouteInvalidParentRefNotMatchingSectionName",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to "
                "False with reason NoMatchingParent when attempting to bind to a Gateway that does not have a "
                "matching SectionName.",
    manifests=("httproute-invalid-parentref-not-matching-section-name.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-invalid-parentref-not-matching-section-name.go @ 4564255ac2c3",
)
