"""UDPRouteParentRefAttachAllListeners (conformance/tests/udproute-parentref-attach-all-listeners.go): A UDPRoute whose parentRef sets neither `port` nor `sectionName` attaches to every UDP listener on the Gateway, and traffic to each listener reaches the configured backend."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import accepted_parent
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

READY = (Condition("Accepted", "True"), Condition("Programmed", "True"))


def body(t: Checks) -> None:
    gw = Key(INFRA, "udp-attach-all-listeners-gateway")
    t.route_parents(Key(INFRA, "udp-route-attach-all"), accepted_parent(gw), False, route_kind="UDPRoute")
    t.gateway_listeners(gw, tuple(ExpectedListener(name, 1, ("UDPRoute",), READY)
                                  for name in ("udp-1", "udp-2", "udp-3")))
    for listener in ("udp-1", "udp-2", "udp-3"):
        t.expect_udp(t.gateway_address(GatewayRef(INFRA, gw.name, (listener,))), "udp-echo-attach-all", INFRA)


TEST = ConformanceTest(
    short_name="UDPRouteParentRefAttachAllListeners",
    description="A UDPRoute whose parentRef sets neither `port` nor `sectionName` attaches to every UDP listener on the Gateway, and traffic to each listener reaches the configured backend.",
    manifests=("udproute-parentref-attach-all-listeners.yaml",),
    features=('Gateway', 'UDPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-parentref-attach-all-listeners.go @ 4564255ac2c3",
)
