"""TLSRouteSimpleSameNamespace (conformance/tests/tlsroute-simple-same-namespace.go): A single TLSRoute in the gateway-conformance-infra namespace attaches to a Gateway in the same namespace."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import ca_certificate, tls_routes_accepted
from ..suite import Checks, ConformanceTest


def body(t: Checks) -> None:
    address, hostnames = tls_routes_accepted(t, GatewayRef(INFRA, "gateway-tlsroute"),
                                             Key(INFRA, "gateway-conformance-infra-test"))
    if len(hostnames) != 1:
        t.fail(f"unexpected error in test configuration, found {len(hostnames)} hostnames")
    ca = ca_certificate(t)
    # Passthrough: the TLS the client began ends at the tcp-backend Pod, which saw the SNI.
    t.expect_tcp(address, "tcp-backend", INFRA, server_name=hostnames[0], backend_is_tls=True, ca_pem=ca)


TEST = ConformanceTest(
    short_name="TLSRouteSimpleSameNamespace",
    description="A single TLSRoute in the gateway-conformance-infra namespace attaches to a Gateway in the same namespace",
    manifests=("tlsroute-simple-same-namespace.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-simple-same-namespace.go @ 4564255ac2c3",
)
