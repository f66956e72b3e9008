"""GatewayTLSBackendClientCertificate (conformance/tests/gateway-tls-backend-client-certificate.go):
a Gateway with `spec.tls.backend.clientCertificateRef` presents that certificate when it
re-encrypts to a backend (BackendTLSPolicy); the backend verifies it against the suite's CA and
reports it, and the Gateway's ResolvedRefs is True."""

from ..backend_tls_checks import ACCEPTED, policy_has
from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest

NAME = "gateway-tls-backend-client-certificate"
ROUTE = Key(INFRA, NAME)
GATEWAY = GatewayRef(INFRA, NAME)
POLICY = "gateway-tls-backend-client-certificate-test"
CLIENT_CERT = Key(INFRA, "tls-checks-client-certificate")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    policy_has(t, POLICY, ACCEPTED, gateway=GATEWAY.key)
    t.gateway_condition(GATEWAY.key, Condition("ResolvedRefs", "True", "ResolvedRefs"))

    expected_client_cert = t.tls_secret_certificate(CLIENT_CERT)
    if not expected_client_cert:
        t.fail("missing required server certificate pem for the test")
        return
    # Upstream sets ClientCert on the Request, which is also the ExpectedRequest when none is given.
    t.expect(address, Expect(
        Request(path="/", host="abc.example.com"),
        expected_request=ExpectedRequest(path="/", host="abc.example.com", sni="abc.example.com",
                                         client_cert=expected_client_cert),
        response=Response(status=200),
        name="HTTP request sent to Service using TLS should succeed and the configured client certificate "
             "should be presented."))


TEST = ConformanceTest(
    short_name="GatewayTLSBackendClientCertificate",
    description="A Gateway with a client certificate configured should present the certificate when connecting "
                "to a backend using TLS.",
    manifests=("gateway-tls-backend-client-certificate.yaml",),
    features=("Gateway", "GatewayBackendClientCertificate", "HTTPRoute", "BackendTLSPolicy"),
    body=body,
    source="conformance/tests/gateway-tls-backend-client-certificate.go @ 4564255ac2c3",
)
