"""TCPRouteParentRefAttachAll (conformance/tests/tcproute-parentref-attach-all.go): A TCPRoute whose parentRef sets neither sectionName nor port should attach to every TCP listener on the Gateway, and traffic to each listener should reach the configured backend."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import accepted_parent
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    gw = Key(INFRA, "tcp-attach-all-gateway")
    t.route_parents(Key(INFRA, "tcp-route-attach-all"), accepted_parent(gw), False, route_kind="TCPRoute")
    for listener in ("one", "two", "three", "four"):
        address = t.gateway_address(GatewayRef(INFRA, gw.name, (listener,)))
        t.expect_tcp(address, "tcp-echo-attach-all", INFRA)


TEST = ConformanceTest(
    short_name="TCPRouteParentRefAttachAll",
    description="A TCPRoute whose parentRef sets neither sectionName nor port should attach to every TCP listener on the Gateway, and traffic to each listener should reach the configured backend.",
    manifests=("tcproute-parentref-attach-all.yaml",),
    features=('Gateway', 'TCPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-parentref-attach-all.go @ 4564255ac2c3",
)
