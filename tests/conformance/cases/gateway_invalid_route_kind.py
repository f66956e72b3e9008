"""GatewayInvalidRouteKind (conformance/tests/gateway-invalid-route-kind.go): a listener allowing only
a route kind that does not exist supports no kind and has ResolvedRefs False (InvalidRouteKinds);
one allowing HTTPRoute and an invalid kind supports HTTPRoute and still says InvalidRouteKinds."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

_INVALID = (Condition("ResolvedRefs", "False", "InvalidRouteKinds"),)


def body(t: Checks) -> None:
    t.gateway_listeners(Key(INFRA, "gateway-only-invalid-route-kind"),
                        (ExpectedListener("http", 0, supported_kinds=(), conditions=_INVALID),))
    t.gateway_listeners(Key(INFRA, "gateway-supported-and-invalid-route-kind"),
                        (ExpectedListener("http", 0, conditions=_INVALID),))


TEST = ConformanceTest(
    short_name="GatewayInvalidRouteKind",
    description="A Gateway in the gateway-conformance-infra namespace should fail to become ready an invalid "
                "Route kind is specified.",
    manifests=("gateway-invalid-route-kind.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-invalid-route-kind.go @ 4564255ac2c3",
)
