"""UDPRouteMultipleRoutesAttachment (conformance/tests/udproute-multiple-routes-attachment.go): When two UDPRoutes target the same Gateway listener, both must report Accepted=True. Only the oldest route is attached and receives traffic; the listener's AttachedRoutes count must reflect both."""

import time

from ..expect import INFRA, GatewayRef, Key
from ..stream_clients import udp_echo
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

NEWER = {
    "apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "UDPRoute",
    "metadata": {"name": "udproute-attach-newer", "namespace": INFRA},
    "spec": {"parentRefs": [{"name": "udp-multi-route-attach-gateway", "sectionName": "udp"}],
             "rules": [{"backendRefs": [{"name": "udp-attach-backend-2", "port": 8080}]}]},
}
PROBES = 20


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "udp-multi-route-attach-gateway", ("udp",))
    older, newer = Key(INFRA, "udproute-attach-older"), Key(INFRA, "udproute-attach-newer")
    address = t.gateway_and_routes_accepted(gw, older, route_kind="UDPRoute")
    time.sleep(1)  # as upstream: the newer route is created a second later
    t.apply(NEWER)
    accepted = Condition("Accepted", "True", "Accepted")
    t.route_condition(older, gw.key, accepted, route_kind="UDPRoute")
    t.route_condition(newer, gw.key, accepted, route_kind="UDPRoute")
    t.gateway_listeners(gw.key, (ExpectedListener("udp", 2, ("UDPRoute",), (accepted_listener(),)),))

    def only_the_oldest() -> str | None:
        for i in range(PROBES):
            service = udp_echo(address).get("service")
            if service != "udp-attach-backend-1":
                return f"probe {i + 1} reached {service!r}; only udp-attach-backend-1 may answer"
        return None
    t.eventually("only the oldest UDPRoute receives traffic", only_the_oldest)


def accepted_listener() -> Condition:
    return Condition("Accepted", "True", "Accepted")


TEST = ConformanceTest(
    short_name="UDPRouteMultipleRoutesAttachment",
    description="When two UDPRoutes target the same Gateway listener, both must report Accepted=True. Only the oldest route is attached and receives traffic; the listener's AttachedRoutes count must reflect both.",
    manifests=("udproute-multiple-routes-attachment.yaml",),
    features=('Gateway', 'UDPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-multiple-routes-attachment.go @ 4564255ac2c3",
)
