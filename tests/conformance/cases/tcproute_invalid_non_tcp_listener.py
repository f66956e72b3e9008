"""TCPRouteInvalidNonTCPListener (conformance/tests/tcproute-invalid-non-tcp-listener.go): A TCPRoute should set Accepted=False with reason NotAllowedByListeners when attaching to a non-TCP listener via sectionName."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = Key(INFRA, "tcp-mixed-protocol-gateway")
    t.route_condition(Key(INFRA, "tcp-route"), gw, Condition("Accepted", "False", "NotAllowedByListeners"),
                      route_kind="TCPRoute")
    t.gateway_zero_routes(gw)


TEST = ConformanceTest(
    short_name="TCPRouteInvalidNonTCPListener",
    description="A TCPRoute should set Accepted=False with reason NotAllowedByListeners when attaching to a non-TCP listener via sectionName.",
    manifests=("tcproute-invalid-non-tcp-listener.yaml",),
    features=('Gateway', 'TCPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-invalid-non-tcp-listener.go @ 4564255ac2c3",
)
