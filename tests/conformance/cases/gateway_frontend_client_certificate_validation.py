"""GatewayFrontendClientCertificateValidation (conformance/tests/gateway-with-clientcertificate-validation.go):
a Gateway's default client certificate validation (port 443) and its per-port one (8443) each let
in a client certificate signed by their CA, and turn away one signed by the other's."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest

GATEWAY = GatewayRef(INFRA, "client-validation-default")
ROUTES = (Key(INFRA, "client-certificate-validation-https-test"),
          Key(INFRA, "client-certificate-validation-https-test-no-hostname"))
SERVER_CERT = Key(INFRA, "tls-validity-checks-certificate")
CLIENT_CERT = Key(INFRA, "tls-validity-checks-client-certificate")
PER_PORT_CLIENT_CERT = Key(INFRA, "tls-validity-checks-per-port-client-certificate")
PRESENTED = ("that the client certificate was presented in the failing handshakes (Go's GetClientCertificateHook): "
             "Python's ssl has no such hook")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, *ROUTES)
    for route in ROUTES:
        t.route_resolved_refs(route, GATEWAY.key)
    host = address.rpartition(":")[0]

    # The default configuration (port 443).
    request = Request(host="example.org", path="/")
    t.expect(f"{host}:443", Expect(request, backend="infra-backend-v1"), SERVER_CERT, "example.org", CLIENT_CERT)
    t.expect_tls_failure(f"{host}:443", request, SERVER_CERT, "example.org", PER_PORT_CLIENT_CERT)

    # The per-port configuration (port 8443).
    request = Request(host="second-example.org", path="/")
    t.expect(f"{host}:8443", Expect(request, backend="infra-backend-v2"), SERVER_CERT, "second-example.org",
             PER_PORT_CLIENT_CERT)
    t.expect_tls_failure(f"{host}:8443", request, SERVER_CERT, "second-example.org", CLIENT_CERT)
    t.not_checked(PRESENTED)


TEST = ConformanceTest(
    short_name="GatewayFrontendClientCertificateValidation",
    description="Gateway's client certificate validation config should be used for HTTPS traffic",
    manifests=("gateway-with-clientcertificate-validation.yaml",),
    features=("Gateway", "HTTPRoute", "GatewayFrontendClientCertificateValidation"),
    body=body,
    source="conformance/tests/gateway-with-clientcertificate-validation.go @ 4564255ac2c3",
)
