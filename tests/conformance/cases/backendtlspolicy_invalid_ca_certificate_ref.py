"""BackendTLSPolicyInvalidCACertificateRef (conformance/tests/backendtlspolicy-invalid-ca-certificate-ref.go):
a policy whose only CA reference names a missing ConfigMap, or one without ca.crt, is Accepted
False NoValidCACertificate and ResolvedRefs False InvalidCACertificateRef, and its backend answers 5xx."""

from ..backend_tls_checks import FEATURES, INVALID_CA_REF, NO_VALID_CA, SERVER_ERRORS, policy_has, to
from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backendtlspolicy-invalid-ca-certificate-ref")
GATEWAY = GatewayRef(INFRA, "same-namespace")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    for policy in ("nonexistent-ca-certificate-ref", "malformed-ca-certificate-ref"):
        policy_has(t, policy, NO_VALID_CA, INVALID_CA_REF)
        t.expect(address, to(f"/backendtlspolicy-{policy}", response=SERVER_ERRORS))


TEST = ConformanceTest(
    short_name="BackendTLSPolicyInvalidCACertificateRef",
    description="A BackendTLSPolicy that specifies a single invalid CACertificateRef should have the Accepted and "
                "ResolvedRefs status condition set False with appropriate reasons, and HTTP requests to a backend "
                "targeted by this policy should fail with a 5xx response.",
    manifests=("backendtlspolicy-invalid-ca-certificate-ref.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/backendtlspolicy-invalid-ca-certificate-ref.go @ 4564255ac2c3",
)
