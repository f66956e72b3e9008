"""TLSRouteInvalidNoMatchingListenerHostname (conformance/tests/tlsroute-invalid-no-matching-listener-hostname.go): A TLSRoute with a hostname that does not match the Gateway listener hostname should set Accepted=False with Reason=NoMatchingListenerHostname."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

NOT_ACCEPTED = Condition("Accepted", "False", "NoMatchingListenerHostname")


def body(t: Checks) -> None:
    route1, route2 = Key(INFRA, "tlsroute-hostname-mismatch-1"), Key(INFRA, "tlsroute-hostname-mismatch-2")
    exact, wildcard = Key(INFRA, "gateway-tls-exact-hostname"), Key(INFRA, "gateway-tls-wildcard-hostname")
    t.route_condition(route1, exact, NOT_ACCEPTED, route_kind="TLSRoute")
    t.route_condition(route2, wildcard, NOT_ACCEPTED, route_kind="TLSRoute")
    t.route_no_accepted_parents(route1, route_kind="TLSRoute")
    t.route_no_accepted_parents(route2, route_kind="TLSRoute")
    t.gateway_zero_routes(exact)
    t.gateway_zero_routes(wildcard)


TEST = ConformanceTest(
    short_name="TLSRouteInvalidNoMatchingListenerHostname",
    description="A TLSRoute with a hostname that does not match the Gateway listener hostname should set Accepted=False with Reason=NoMatchingListenerHostname",
    manifests=("tlsroute-invalid-no-matching-listener-hostname.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-invalid-no-matching-listener-hostname.go @ 4564255ac2c3",
)
