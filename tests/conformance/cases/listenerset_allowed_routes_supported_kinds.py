"""ListenerSetAllowedRoutesSupportedKinds (conformance/tests/listenerset-allowed-routes-supported-kinds.go):
a ListenerSet listener that allows only a route kind its protocol cannot carry (TLSRoute on HTTP)
has ResolvedRefs False, InvalidRouteKinds."""

from ..expect import INFRA, Key
from ..listener_set_checks import FEATURES
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    t.gateway_condition(Key(INFRA, "gateway-with-listener-sets-test-supported-route-kinds"), Condition("Accepted"))
    t.listener_conditions("ListenerSet", Key(INFRA, "listenerset-test-allowed-routes-supported-kinds"),
                          (Condition("ResolvedRefs", "False", "InvalidRouteKinds"),),
                          "listener-set-listener-allowed-routes-tls-only")


TEST = ConformanceTest(
    short_name="ListenerSetAllowedRoutesSupportedKinds",
    description="ListenerSet listeners allow specific route kinds",
    manifests=("listenerset-allowed-routes-supported-kinds.yaml",),
    features=(*FEATURES, "TLSRoute"),
    body=body,
    source="conformance/tests/listenerset-allowed-routes-supported-kinds.go @ 4564255ac2c3",
)
