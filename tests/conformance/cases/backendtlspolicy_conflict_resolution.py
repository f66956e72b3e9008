"""BackendTLSPolicyConflictResolution (conformance/tests/backendtlspolicy-conflict-resolution.go):
of two policies on the same Service (and sectionName), the older is Accepted and the other
Conflicted; a policy naming a port and one naming the whole Service are both Accepted; traffic
uses the accepted one (its hostname is the SNI the backend's certificate must carry)."""

from ..backend_tls_checks import ACCEPTED, CONFLICTED, FEATURES, policy_has, to
from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backendtlspolicy-conflict-resolution")
GATEWAY = GatewayRef(INFRA, "same-namespace")


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    policy_has(t, "conflicted-without-section-name-1", ACCEPTED)
    policy_has(t, "conflicted-without-section-name-2", CONFLICTED)
    t.expect(address, to("/backendtlspolicy-conflicted-without-section-name"))
    policy_has(t, "conflicted-with-section-name-1", ACCEPTED)
    policy_has(t, "conflicted-with-section-name-2", CONFLICTED)
    t.expect(address, to("/backendtlspolicy-conflicted-with-section-name"))
    policy_has(t, "not-conflicted-with-section-name", ACCEPTED)
    policy_has(t, "not-conflicted-without-section-name", ACCEPTED)
    t.expect(address, to("/backendtlspolicy-not-conflicted-with-section-name"))
    t.expect(address, to("/backendtlspolicy-not-conflicted-without-section-name"))


TEST = ConformanceTest(
    short_name="BackendTLSPolicyConflictResolution",
    description="Verifies that when multiple BackendTLSPolicies target the same Service, only one policy is "
                "accepted while conflicting policies are rejected, and traffic continues to route successfully.",
    manifests=("backendtlspolicy-conflict-resolution.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/backendtlspolicy-conflict-resolution.go @ 4564255ac2c3",
)
