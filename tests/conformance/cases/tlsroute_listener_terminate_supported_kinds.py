"""TLSRouteListenerTerminateSupportedKinds (conformance/tests/tlsroute-listener-terminate-supported-kinds.go): A Gateway Listener with TLS mode Terminate MUST include TLSRoute in SupportedKinds when termination is supported."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener


def body(t: Checks) -> None:
    t.gateway_listeners(Key(INFRA, "gateway-tlsroute-terminate-supported"), (
        ExpectedListener("tls-terminate", 0, ("TLSRoute",), (Condition("Accepted", "True", "Accepted"),)),))


TEST = ConformanceTest(
    short_name="TLSRouteListenerTerminateSupportedKinds",
    description="A Gateway Listener with TLS mode Terminate MUST include TLSRoute in SupportedKinds when termination is supported",
    manifests=("tlsroute-listener-terminate-supported-kinds.yaml",),
    features=("Gateway", "TLSRoute", "TLSRouteModeTerminate"),
    body=body,
    source="conformance/tests/tlsroute-listener-terminate-supported-kinds.go @ 4564255ac2c3",
)
