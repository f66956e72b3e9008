"""GatewayListenerUnsupportedProtocol (conformance/tests/gateway-invalid-listeners-unsupported-protocol.go):
a listener of a protocol the implementation does not support is not Accepted (UnsupportedProtocol)
and supports no kind; a Gateway whose only listener is such is not Accepted (ListenersNotValid),
one with a valid listener beside it is Accepted (ListenersNotValid still the reason)."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

INVALID = ExpectedListener("invalid", 0, supported_kinds=(),
                           conditions=(Condition("Accepted", "False", "UnsupportedProtocol"),))


def body(t: Checks) -> None:
    only = Key(INFRA, "gateway-only-unsupported-protocols")
    t.gateway_latest_conditions(only)
    t.gateway_condition(only, Condition("Accepted", "False", "ListenersNotValid"))
    t.gateway_listeners(only, (INVALID,))

    mixed = Key(INFRA, "gateway-supported-and-unsupported-protocols")
    t.gateway_latest_conditions(mixed)
    t.gateway_condition(mixed, Condition("Accepted", "True", "ListenersNotValid"))
    t.gateway_listeners(mixed, (ExpectedListener("http", 0, conditions=(Condition("Accepted", "True", "Accepted"),)),
                                INVALID))


TEST = ConformanceTest(
    short_name="GatewayListenerUnsupportedProtocol",
    description="A Gateway should set the Accepted condition to False with reason UnsupportedProtocol on listeners "
                "whose protocol is not supported. The Gateway itself should only be Accepted if at least one of its "
                "listeners is accepted.",
    manifests=("gateway-invalid-listeners-unsupported-protocol.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-invalid-listeners-unsupported-protocol.go @ 4564255ac2c3",
)
