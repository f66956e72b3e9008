"""TCPRouteMultipleRoutesAttachment (conformance/tests/tcproute-multiple-routes-attachment.go): When two TCPRoutes target the same Gateway listener, both must report Accepted=True. Only the oldest route is attached to the listener, and the listener's AttachedRoutes count must reflect this."""

import time

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import tcp_pod
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

NEWER = {
    "apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TCPRoute",
    "metadata": {"name": "tcproute-attach-newer", "namespace": INFRA},
    "spec": {"parentRefs": [{"name": "tcp-multi-route-attach-gateway", "sectionName": "tcp"}],
             "rules": [{"backendRefs": [{"name": "tcp-attach-backend-2", "port": 3000}]}]},
}
SAMPLES = 100


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "tcp-multi-route-attach-gateway", ("tcp",))
    older, newer = Key(INFRA, "tcproute-attach-older"), Key(INFRA, "tcproute-attach-newer")
    address = t.gateway_and_routes_accepted(gw, older, route_kind="TCPRoute")
    time.sleep(1)  # as upstream: the newer route is created a second later
    t.apply(NEWER)
    accepted = Condition("Accepted", "True", "Accepted")
    t.route_condition(older, gw.key, accepted, route_kind="TCPRoute")
    t.route_condition(newer, gw.key, accepted, route_kind="TCPRoute")
    t.gateway_listeners(gw.key, (ExpectedListener("tcp", 2, ("TCPRoute",), (Condition("Accepted", "True", "Accepted"),)),))
    t.expect_tcp(address, "tcp-attach-backend-1", INFRA)
    for i in range(SAMPLES):
        pod = tcp_pod(address)
        if not pod.startswith("tcp-attach-backend-1-"):
            t.fail(f"request {i + 1}/{SAMPLES} reached {pod!r}; only the oldest route's backend may answer")


TEST = ConformanceTest(
    short_name="TCPRouteMultipleRoutesAttachment",
    description="When two TCPRoutes target the same Gateway listener, both must report Accepted=True. Only the oldest route is attached to the listener, and the listener's AttachedRoutes count must reflect this.",
    manifests=("tcproute-multiple-routes-attachment.yaml",),
    features=('Gateway', 'TCPRoute'),
    body=body,
    source="conformance/tests/tcproute-multiple-routes-attachment.go @ 4564255ac2c3",
)
