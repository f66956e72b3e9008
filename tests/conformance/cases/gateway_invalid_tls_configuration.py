"""GatewayInvalidTLSConfiguration (conformance/tests/gateway-invalid-tls-configuration.go): an
HTTPS listener whose certificateRef names a missing Secret, another group, another kind or a
Secret holding no valid certificate has ResolvedRefs=False/InvalidCertificateRef."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAYS = ("gateway-certificate-nonexistent-secret", "gateway-certificate-unsupported-group",
            "gateway-certificate-unsupported-kind", "gateway-certificate-malformed-secret")
LISTENER = ExpectedListener("https", 0, conditions=(Condition("ResolvedRefs", "False", "InvalidCertificateRef"),))


def body(t: Checks) -> None:
    for name in GATEWAYS:
        t.gateway_listeners(Key(INFRA, name), (LISTENER,))


TEST = ConformanceTest(
    short_name="GatewayInvalidTLSConfiguration",
    description="A Gateway should fail to become ready if the Gateway has an invalid TLS configuration",
    manifests=("gateway-invalid-tls-configuration.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-invalid-tls-configuration.go @ 4564255ac2c3",
)
