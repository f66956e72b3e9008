"""TLSRouteTerminateSimpleSameNamespace (conformance/tests/tlsroute-terminate-simple-same-namespace.go): A single TLSRoute in the gateway-conformance-infra namespace attaches to a Gateway using Terminate mode in the same namespace."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import ca_certificate, tls_routes_accepted
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    address, hostnames = tls_routes_accepted(t, GatewayRef(INFRA, "gateway-tlsroute-terminate"),
                                             Key(INFRA, "tlsroute-terminated-test"))
    if len(hostnames) != 1:
        t.fail(f"unexpected error in test configuration, found {len(hostnames)} hostnames")
    ca = ca_certificate(t)
    # Terminated on the Gateway: the backend's plain port sees no TLS, so no SNI either.
    t.expect_tcp(address, "tcp-backend", INFRA, server_name=hostnames[0], backend_is_tls=False, ca_pem=ca,
                 hostname="")


TEST = ConformanceTest(
    short_name="TLSRouteTerminateSimpleSameNamespace",
    description="A single TLSRoute in the gateway-conformance-infra namespace attaches to a Gateway using Terminate mode in the same namespace",
    manifests=("tlsroute-terminate-simple-same-namespace.yaml",),
    features=("Gateway", "TLSRoute", "TLSRouteModeTerminate"),
    body=body,
    provisional=True,
    source="conformance/tests/tlsroute-terminate-simple-same-namespace.go @ 4564255ac2c3",
)
