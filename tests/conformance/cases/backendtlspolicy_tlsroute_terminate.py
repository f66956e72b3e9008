"""BackendTLSPolicyTLSRouteTerminate (conformance/tests/backendtlspolicy-tlsroute-terminate.go): a
TLSRoute on a Terminate listener whose backend Service port a BackendTLSPolicy targets: the
Gateway ends the client's TLS and opens TLS again to the tcp-backend Pods' TLS port, with the
policy's hostname as SNI, verifying their certificate against the policy's CA ConfigMap."""

from ..backend_tls_checks import ACCEPTED, RESOLVED_REFS, policy_has
from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import ca_certificate, tls_routes_accepted
from ..suite import Checks, ConformanceTest

GATEWAY = GatewayRef(INFRA, "gateway-btls-tlsroute-terminate")
ROUTE = Key(INFRA, "backendtlspolicy-tlsroute-terminate")
POLICY = "btls-tlsroute-terminate-test"


def body(t: Checks) -> None:
    address, hostnames = tls_routes_accepted(t, GATEWAY, ROUTE)
    if len(hostnames) != 1:
        t.fail(f"unexpected error in test configuration, found {len(hostnames)} hostnames")
        return
    policy_has(t, POLICY, ACCEPTED, RESOLVED_REFS, gateway=GATEWAY.key)
    ca = ca_certificate(t)
    # serverStr is the client-facing hostname of the route and listener; the backend sees the
    # policy's hostname as SNI on the re-encrypted connection.
    t.expect_tcp(address, "tcp-backend", INFRA, server_name=hostnames[0], backend_is_tls=True, ca_pem=ca,
                 hostname="abc.example.com")


TEST = ConformanceTest(
    short_name="BackendTLSPolicyTLSRouteTerminate",
    description="A BackendTLSPolicy attached to a Service consumed by a TLSRoute using Terminate mode should "
                "re-encrypt traffic to the backend",
    manifests=("backendtlspolicy-tlsroute-terminate.yaml",),
    features=("Gateway", "TLSRoute", "TLSRouteModeTerminate", "BackendTLSPolicy"),
    body=body,
    provisional=True,
    source="conformance/tests/backendtlspolicy-tlsroute-terminate.go @ 4564255ac2c3",
)
