"""BackendTLSPolicyInvalidKind (conformance/tests/backendtlspolicy-invalid-kind.go): a policy whose
only CA reference is of an unsupported kind is Accepted False NoValidCACertificate and ResolvedRefs
False InvalidKind, and its backend answers 5xx."""

from ..backend_tls_checks import FEATURES, INVALID_KIND, NO_VALID_CA, SERVER_ERRORS, policy_has, to
from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backendtlspolicy-invalid-kind-test")
GATEWAY = GatewayRef(INFRA, "same-namespace")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    policy_has(t, "invalid-kind", NO_VALID_CA, INVALID_KIND)
    t.expect(address, to("/backendtlspolicy-invalid-kind", response=SERVER_ERRORS))


TEST = ConformanceTest(
    short_name="BackendTLSPolicyInvalidKind",
    description="A BackendTLSPolicy that specifies a single CACertificateRef with an invalid kind should have the "
                "Accepted and ResolvedRefs status condition set False with appropriate reasons, and HTTP requests "
                "to a backend targeted by this policy should fail with a 5xx response.",
    manifests=("backendtlspolicy-invalid-kind.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/backendtlspolicy-invalid-kind.go @ 4564255ac2c3",
)
