"""GatewayFrontendInvalidDefaultClientCertificateValidation
(conformance/tests/gateway-invalid-default-frontend-client-certificate-validation.go): a default
client certificate validation naming a missing ConfigMap takes the HTTPS listener down
(InvalidCACertificateRef, NoValidCACertificate: a TLS request fails), and leaves the HTTP
listener, though its port has a per-port validation, serving."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, Condition, ConformanceTest

GATEWAY = GatewayRef(INFRA, "invalid-default-client-validation-config")
SERVER_CERT = Key(INFRA, "tls-validity-checks-certificate")
OK = (Condition("ResolvedRefs", "True"), Condition("Accepted", "True"), Condition("Programmed", "True"))
INVALID = (Condition("ResolvedRefs", "False", "InvalidCACertificateRef"),
           Condition("Accepted", "False", "NoValidCACertificate"), Condition("Programmed", "False"))


def body(t: Checks) -> None:
    host = t.gateway_address(GATEWAY).rpartition(":")[0]
    request = Request(host="example.org", path="/")

    t.listener_conditions("Gateway", GATEWAY.key, OK, "http")
    t.expect(f"{host}:80", Expect(request, backend="infra-backend-v1"))

    t.listener_conditions("Gateway", GATEWAY.key, INVALID, "https")
    t.expect_tls_failure(f"{host}:443", request, SERVER_CERT, "example.org")


TEST = ConformanceTest(
    short_name="GatewayFrontendInvalidDefaultClientCertificateValidation",
    description="Invalid Gateway's default Client Certificate Validation Config should only affect HTTPS traffic",
    manifests=("gateway-invalid-default-frontend-client-certificate-validation.yaml",),
    features=("Gateway", "HTTPRoute", "GatewayFrontendClientCertificateValidation"),
    body=body,
    source="conformance/tests/gateway-invalid-default-frontend-client-certificate-validation.go @ 4564255ac2c3",
)
