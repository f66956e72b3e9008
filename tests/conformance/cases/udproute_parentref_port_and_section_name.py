"""UDPRouteParentRefPortAndSectionName (conformance/tests/udproute-parentref-port-and-section-name.go): A UDPRoute attaches to a UDP listener selected by port, by sectionName, or by both, and traffic to each listener is routed to the backend Service configured by the corresponding UDPRoute."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import accepted_parent
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gw = Key(INFRA, "udp-multi-listener-gateway")
    for route, listener, backend in (("udp-route-by-port", "by-port", "udp-echo-by-port"),
                                     ("udp-route-by-section", "by-section", "udp-echo-by-section"),
                                     ("udp-route-by-section-and-port", "by-section-and-port",
                                      "udp-echo-by-section-and-port")):
        t.route_parents(Key(INFRA, route), accepted_parent(gw), False, route_kind="UDPRoute")
        t.expect_udp(t.gateway_address(GatewayRef(INFRA, gw.name, (listener,))), backend, INFRA)


TEST = ConformanceTest(
    short_name="UDPRouteParentRefPortAndSectionName",
    description="A UDPRoute attaches to a UDP listener selected by port, by sectionName, or by both, and traffic to each listener is routed to the backend Service configured by the corresponding UDPRoute.",
    manifests=("udproute-parentref-port-and-section-name.yaml",),
    features=('Gateway', 'UDPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-parentref-port-and-section-name.go @ 4564255ac2c3",
)
