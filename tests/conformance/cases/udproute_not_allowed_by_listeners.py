"""UDPRouteNotAllowedByListeners (conformance/tests/udproute-not-allowed-by-listeners.go): A UDPRoute targeting a Gateway listener whose protocol is not UDP must report Accepted=False with reason NotAllowedByListeners and must not be attached to the listener."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = Key(INFRA, "udproute-tls-only-gateway")
    t.route_condition(Key(INFRA, "udproute-not-allowed-by-listeners"), gw,
                      Condition("Accepted", "False", "NotAllowedByListeners"), route_kind="UDPRoute")
    t.gateway_zero_routes(gw)


TEST = ConformanceTest(
    short_name="UDPRouteNotAllowedByListeners",
    description="A UDPRoute targeting a Gateway listener whose protocol is not UDP must report Accepted=False with reason NotAllowedByListeners and must not be attached to the listener.",
    manifests=("udproute-not-allowed-by-listeners.yaml",),
    features=('Gateway', 'UDPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-not-allowed-by-listeners.go @ 4564255ac2c3",
)
