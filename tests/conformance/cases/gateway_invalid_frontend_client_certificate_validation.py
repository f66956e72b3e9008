"""GatewayInvalidFrontendClientCertificateValidation
(conformance/tests/gateway-with-invalid-clientcertificate-validation.go): a CA reference that does
not resolve, names a Service, or crosses namespaces without a ReferenceGrant takes only its own
port's HTTPS listener down (ResolvedRefs=False with the reason, Accepted=False/NoValidCACertificate,
not Programmed); the listener under the valid default is fine."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

GATEWAY = Key(INFRA, "gateway-with-invalid-client-cert-validation")


def _invalid(reason: str) -> tuple[Condition, ...]:
    return (Condition("ResolvedRefs", "False", reason), Condition("Accepted", "False", "NoValidCACertificate"),
            Condition("Programmed", "False"))


CASES = (
    ("https", (Condition("ResolvedRefs", "True"), Condition("Accepted", "True"), Condition("Programmed", "True"))),
    ("https-unresolved", _invalid("InvalidCACertificateRef")),
    ("https-invalid-kind", _invalid("InvalidCACertificateKind")),
    ("https-grant-missing", _invalid("RefNotPermitted")),
)


def body(t: Checks) -> None:
    for listener, conditions in CASES:
        t.listener_conditions("Gateway", GATEWAY, conditions, listener)


TEST = ConformanceTest(
    short_name="GatewayInvalidFrontendClientCertificateValidation",
    description="Gateway's should reject invalid Client Certificate Validation Config",
    manifests=("gateway-with-invalid-clientcertificate-validation.yaml",),
    features=("Gateway", "HTTPRoute", "ReferenceGrant", "GatewayFrontendClientCertificateValidation"),
    body=body,
    source="conformance/tests/gateway-with-invalid-clientcertificate-validation.go @ 4564255ac2c3",
)
