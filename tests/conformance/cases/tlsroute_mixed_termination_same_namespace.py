"""TLSRouteMixedTerminationSameNamespace (conformance/tests/tlsroute-mixed-termination-same-namespace.go): A Gateway with 2 TLS Listeners on different modes, on the same port must route the traffic correctly."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import ca_certificate, tls_routes_accepted
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAY = GatewayRef(INFRA, "gateway-tlsroute-mixed-termination")
ACCEPTED = (Condition("Accepted", "True", "Accepted"),)


def body(t: Checks) -> None:
    address, passthrough = tls_routes_accepted(t, GATEWAY, Key(INFRA, "gateway-conformance-mixed-passthroughroute"))
    t.gateway_listeners(GATEWAY.key, (
        ExpectedListener("tls-terminate", 1, ("TLSRoute",), ACCEPTED),
        ExpectedListener("tls-passthrough", 1, ("TLSRoute",), ACCEPTED),
    ))
    if len(passthrough) != 1:
        t.fail(f"unexpected error in test configuration, found {len(passthrough)} passthrough hostnames")
    _, terminate = tls_routes_accepted(t, GATEWAY, Key(INFRA, "gateway-conformance-mixed-terminateroute"))
    if len(terminate) != 1:
        t.fail(f"unexpected error in test configuration, found {len(terminate)} terminate hostnames")
    ca = ca_certificate(t)
    # Terminated on the Gateway: plain text to the backend, which sees no SNI.
    t.expect_tcp(address, "tcp-backend", INFRA, server_name=terminate[0], backend_is_tls=False, ca_pem=ca,
                 hostname="")
    # Passthrough: TLS to the backend, with the client's SNI.
    t.expect_tcp(address, "tcp-backend", INFRA, server_name=passthrough[0], backend_is_tls=True, ca_pem=ca)


TEST = ConformanceTest(
    short_name="TLSRouteMixedTerminationSameNamespace",
    description="A Gateway with 2 TLS Listeners on different modes, on the same port must route the traffic correctly",
    manifests=("tlsroute-mixed-termination-same-namespace.yaml",),
    features=("Gateway", "TLSRoute", "TLSRouteModeTerminate", "TLSRouteModeMixed"),
    body=body,
    provisional=True,
    source="conformance/tests/tlsroute-mixed-termination-same-namespace.go @ 4564255ac2c3",
)
