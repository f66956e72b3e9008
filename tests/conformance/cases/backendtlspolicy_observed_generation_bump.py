"""BackendTLSPolicyObservedGenerationBump (conformance/tests/backendtlspolicy-observed-generation-bump.go):
after a spec change (its hostname), the policy is Accepted and every condition of every ancestor
carries the new generation."""

from ..backend_tls_checks import FEATURES, KIND, policy_has
from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

POLICY = "observed-generation-bump"


def body(t: Checks) -> None:
    policy_has(t, POLICY, Condition("Accepted", "True", ""))  # BackendTLSPolicyMustHaveLatestConditions
    t.patch(KIND, Key(INFRA, POLICY), {"spec": {"validation": {"hostname": "foo.example.com"}}})
    policy_has(t, POLICY, Condition("Accepted", "True", ""), generation=2)


TEST = ConformanceTest(
    short_name="BackendTLSPolicyObservedGenerationBump",
    description="A BackendTLSPolicy in the gateway-conformance-infra namespace should update the observedGeneration "
                "in all of its Status.Conditions after an update to the spec",
    manifests=("backendtlspolicy-observed-generation-bump.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/backendtlspolicy-observed-generation-bump.go @ 4564255ac2c3",
)
