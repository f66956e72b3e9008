"""GatewayWithAttachedRoutes (conformance/tests/gateway-with-attached-routes.go): a listener counts
the routes attached to it (one; two, not the one whose hostname matches no listener); and a
listener whose certificate reference does not resolve still counts its route."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

_OK = (Condition("Accepted", "True"), Condition("ResolvedRefs", "True"))


def body(t: Checks) -> None:
    one = Key(INFRA, "gateway-with-one-attached-route")
    t.gateway_listeners(one, (ExpectedListener("http", 1, conditions=_OK),))

    two = Key(INFRA, "gateway-with-two-attached-routes")
    t.gateway_listeners(two, (ExpectedListener("http", 2, conditions=_OK),))
    t.route_condition(Key(INFRA, "http-route-not-accepted"), two,
                      Condition("Accepted", "False", "NoMatchingListenerHostname"))

    unresolved = Key(INFRA, "unresolved-gateway-with-one-attached-unresolved-route")
    t.gateway_listeners(unresolved, (ExpectedListener("tls", 1, conditions=(
        Condition("Programmed", "False"), Condition("ResolvedRefs", "False"))),))
    t.route_condition(Key(INFRA, "http-route-4"), unresolved, Condition("ResolvedRefs", "False"))


TEST = ConformanceTest(
    short_name="GatewayWithAttachedRoutes",
    description="A Gateway in the gateway-conformance-infra namespace should be attached to routes.",
    manifests=("gateway-with-attached-routes.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/gateway-with-attached-routes.go @ 4564255ac2c3",
)
