"""GatewayFrontendClientCertificateValidationInsecureFallback
(conformance/tests/gateway-with-clientcertificate-validation-insecure-fallback.go): with
AllowInsecureFallback, by default and per port, a client with the right certificate, the wrong one
or none at all is let in, and the Gateway says so (InsecureFrontendValidationMode)."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, Condition, ConformanceTest

GATEWAY = GatewayRef(INFRA, "client-validation-insecure-fallback")
ROUTES = (Key(INFRA, "client-cert-validation-insecure-fallback-test"),
          Key(INFRA, "client-cert-validation-insecure-fallback-test-no-hostname"))
SERVER_CERT = Key(INFRA, "tls-validity-checks-certificate")
CLIENT_CERT = Key(INFRA, "tls-validity-checks-client-certificate")
PER_PORT_CLIENT_CERT = Key(INFRA, "tls-validity-checks-per-port-client-certificate")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, *ROUTES)
    for route in ROUTES:
        t.route_resolved_refs(route, GATEWAY.key)
    t.gateway_condition(GATEWAY.key, Condition("InsecureFrontendValidationMode", "True", "ConfigurationChanged"))
    host = address.rpartition(":")[0]

    for port, hostname, backend, matching, other in (
            (443, "example.org", "infra-backend-v1", CLIENT_CERT, PER_PORT_CLIENT_CERT),
            (8443, "second-example.org", "infra-backend-v2", PER_PORT_CLIENT_CERT, CLIENT_CERT)):
        expected = Expect(Request(host=hostname, path="/"), backend=backend)
        for client_cert in (matching, other, None):
            t.expect(f"{host}:{port}", expected, SERVER_CERT, hostname, client_cert)


TEST = ConformanceTest(
    short_name="GatewayFrontendClientCertificateValidationInsecureFallback",
    description="Gateway's client certificate validation set to AllowInsecureFallback allows any HTTPS traffic.",
    manifests=("gateway-with-clientcertificate-validation-insecure-fallback.yaml",),
    features=("Gateway", "HTTPRoute", "GatewayFrontendClientCertificateValidation",
              "GatewayFrontendClientCertificateValidationInsecureFallback"),
    body=body,
    source="conformance/tests/gateway-with-clientcertificate-validation-insecure-fallback.go @ 4564255ac2c3",
)
