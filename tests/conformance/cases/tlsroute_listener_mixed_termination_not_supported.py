"""TLSRouteListenerMixedTerminationNotSupported (conformance/tests/tlsroute-listener-mixed-termination-not-supported.go): When TLSRoute mixed termination/passthrough listener is NOT supported, a Gateway Listener with 2 distinct TLS modes on the same port MUST have Accepted=False with Reason=ProtocolConflict.

Like upstream, the test asserts nothing (and passes) when TLSRouteModeMixed is claimed, as
meshgate claims it."""

from ..expect import INFRA, Key
from ..features import SUPPORTED
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

CONFLICT = (Condition("Accepted", "False", "ProtocolConflict"),)


def body(t: Checks) -> None:
    if "TLSRouteModeMixed" in SUPPORTED:
        return
    t.gateway_listeners(Key(INFRA, "gateway-tlsroute-mixed-termination-not-supported"), (
        ExpectedListener("tls-terminate", 0, (), CONFLICT), ExpectedListener("tls-passthrough", 0, (), CONFLICT)))


TEST = ConformanceTest(
    short_name="TLSRouteListenerMixedTerminationNotSupported",
    description="When TLSRoute mixed termination/passthrough listener is NOT supported, a Gateway Listener with 2 distinct TLS modes on the same port MUST have Accepted=False with Reason=ProtocolConflict",
    manifests=("tlsroute-listener-mixed-termination-not-supported.yaml",),
    features=("Gateway", "TLSRoute", "TLSRouteModeTerminate"),
    body=body,
    source="conformance/tests/tlsroute-listener-mixed-termination-not-supported.go @ 4564255ac2c3",
)
