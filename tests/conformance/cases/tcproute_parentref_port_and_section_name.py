"""TCPRouteParentRefPortAndSectionName (conformance/tests/tcproute-parentref-port-and-section-name.go): A TCPRoute attaches to a TCP listener by port, by sectionName, or by both."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import accepted_parent
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gw = Key(INFRA, "tcp-multi-listener-gateway")
    for route, listener, backend in (("tcp-route-by-port", "one", "tcp-echo-one"),
                                     ("tcp-route-by-section", "two", "tcp-echo-two"),
                                     ("tcp-route-by-section-and-port", "three", "tcp-echo-three")):
        t.route_parents(Key(INFRA, route), accepted_parent(gw), False, route_kind="TCPRoute")
        t.expect_tcp(t.gateway_address(GatewayRef(INFRA, gw.name, (listener,))), backend, INFRA)


TEST = ConformanceTest(
    short_name="TCPRouteParentRefPortAndSectionName",
    description="A TCPRoute attaches to a TCP listener by port, by sectionName, or by both.",
    manifests=("tcproute-parentref-port-and-section-name.yaml",),
    features=('Gateway', 'TCPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-parentref-port-and-section-name.go @ 4564255ac2c3",
)
