"""TLSRouteInvalidNoMatchingListener (conformance/tests/tlsroute-invalid-no-matching-listener.go): A TLSRoute should set Accepted=False when attaching to a Gateway with no compatible TLS listener."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    http_route, https_route = Key(INFRA, "tlsroute-not-allowed-protocol-http"), Key(INFRA, "tlsroute-not-allowed-protocol-https")
    section_route = Key(INFRA, "tlsroute-no-matching-section-name")
    passthrough_gw = Key(INFRA, "gateway-tlsroute-tls-passthrough-only")
    http_gw, https_gw = Key(INFRA, "gateway-tlsroute-http-only"), Key(INFRA, "gateway-tlsroute-https-only")
    not_allowed = Condition("Accepted", "False", "NotAllowedByListeners")
    t.route_condition(http_route, http_gw, not_allowed, route_kind="TLSRoute")
    t.route_condition(https_route, https_gw, not_allowed, route_kind="TLSRoute")
    t.route_condition(section_route, passthrough_gw, Condition("Accepted", "False", "NoMatchingParent"),
                      route_kind="TLSRoute")
    for route in (http_route, https_route, section_route):
        t.route_no_accepted_parents(route, route_kind="TLSRoute")
    t.gateway_zero_routes(http_gw)
    t.gateway_zero_routes(https_gw)


TEST = ConformanceTest(
    short_name="TLSRouteInvalidNoMatchingListener",
    description="A TLSRoute should set Accepted=False when attaching to a Gateway with no compatible TLS listener",
    manifests=("tlsroute-invalid-no-matching-listener.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-invalid-no-matching-listener.go @ 4564255ac2c3",
)
