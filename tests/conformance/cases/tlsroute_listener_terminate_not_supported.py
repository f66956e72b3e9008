"""TLSRouteListenerTerminateNotSupported (conformance/tests/tlsroute-listener-terminate-not-supported.go): When TLSRoute termination is NOT supported, a Gateway Listener with TLS mode Terminate MUST have Accepted=False with Reason=UnsupportedValue.

Like upstream, the test asserts nothing (and passes) when TLSRouteModeTerminate is claimed, as
meshgate claims it."""

from ..expect import INFRA, Key
from ..features import SUPPORTED
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener


def body(t: Checks) -> None:
    if "TLSRouteModeTerminate" in SUPPORTED:
        return
    t.gateway_listeners(Key(INFRA, "gateway-tlsroute-terminate-unsupported"), (
        ExpectedListener("tls-terminate", 0, (), (Condition("Accepted", "False", "UnsupportedValue"),)),))


TEST = ConformanceTest(
    short_name="TLSRouteListenerTerminateNotSupported",
    description="When TLSRoute termination is NOT supported, a Gateway Listener with TLS mode Terminate MUST have Accepted=False with Reason=UnsupportedValue",
    manifests=("tlsroute-listener-terminate-not-supported.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-listener-terminate-not-supported.go @ 4564255ac2c3",
)
