"""TLSRouteListenerPassthroughSupportedKinds (conformance/tests/tlsroute-listener-passthrough-supported-kinds.go): A Gateway Listener with TLS mode Passthrough MUST include TLSRoute in SupportedKinds."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener


def body(t: Checks) -> None:
    # TCPRoute cannot ride a TLS listener: ResolvedRefs False, and TLSRoute alone is supported.
    t.gateway_listeners(Key(INFRA, "gateway-tlsroute-passthrough-supported-kind"), (
        ExpectedListener("tls-passthrough", 0, ("TLSRoute",),
                         (Condition("ResolvedRefs", "False", "InvalidRouteKinds"),)),))


TEST = ConformanceTest(
    short_name="TLSRouteListenerPassthroughSupportedKinds",
    description="A Gateway Listener with TLS mode Passthrough MUST include TLSRoute in SupportedKinds",
    manifests=("tlsroute-listener-passthrough-supported-kinds.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-listener-passthrough-supported-kinds.go @ 4564255ac2c3",
)
