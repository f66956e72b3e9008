"""GatewayInvalidTLSBackendConfiguration (conformance/tests/gateway-invalid-tls-backend-configuration.go):
a Gateway whose `spec.tls.backend.clientCertificateRef` names a missing Secret, another group or
kind, or a Secret without tls.crt and tls.key has ResolvedRefs=False/InvalidClientCertificateRef;
one naming a Secret of another namespace without a ReferenceGrant, RefNotPermitted. Each stays
Accepted."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

# (subtest, Gateway, the ResolvedRefs reason), as the upstream table.
CASES = (
    ("Nonexistent secret referenced as ClientCertificateRef in Gateway backend TLS configuration",
     "gateway-client-certificate-nonexistent-secret", "InvalidClientCertificateRef"),
    ("Unsupported group resource referenced as ClientCertificateRef in Gateway backend TLS configuration",
     "gateway-client-certificate-unsupported-group", "InvalidClientCertificateRef"),
    ("Unsupported kind resource referenced as ClientCertificateRef inGateway backend TLS configuration",
     "gateway-client-certificate-unsupported-kind", "InvalidClientCertificateRef"),
    ("Malformed secret referenced as ClientCertificateRef in Gateway backend TLS configuration",
     "gateway-client-certificate-malformed-secret", "InvalidClientCertificateRef"),
    (("Secret referenced from another namespace without any ReferenceGrant as ClientCertificateRef in Gateway "
      "backend TLS configuration"), "gateway-client-certificate-missing-reference-grant", "RefNotPermitted"),
)


def body(t: Checks) -> None:
    for _, name, reason in CASES:
        gateway = Key(INFRA, name)
        t.gateway_latest_conditions(gateway)
        t.gateway_condition(gateway, Condition("ResolvedRefs", "False", reason))
        t.gateway_condition(gateway, Condition("Accepted", "True", "Accepted"))


TEST = ConformanceTest(
    short_name="GatewayInvalidTLSBackendConfiguration",
    description="A Gateway should have ResolvedRefs condition set false if the Gateway has an invalid backend "
                "TLS configuration",
    manifests=("gateway-invalid-tls-backend-configuration.yaml",),
    features=("Gateway", "GatewayBackendClientCertificate", "HTTPRoute", "BackendTLSPolicy"),
    body=body,
    source="conformance/tests/gateway-invalid-tls-backend-configuration.go @ 4564255ac2c3",
)
