"""GatewayInvalidParametersRef (conformance/tests/gateway-invalid-parameters-ref.go): a Gateway whose
spec.infrastructure.parametersRef names an invalid or non-existent resource is Accepted=False with
reason InvalidParameters."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

GATEWAY = Key(INFRA, "gateway-invalid-parameters-ref")


def body(t: Checks) -> None:
    t.gateway_latest_conditions(GATEWAY)
    t.gateway_condition(GATEWAY, Condition("Accepted", "False", "InvalidParameters"))


TEST = ConformanceTest(
    short_name="GatewayInvalidParametersRef",
    description="A Gateway referencing an invalid or non-existent parametersRef should set the Accepted condition "
                "to False with reason InvalidParameters.",
    manifests=("gateway-invalid-parameters-ref.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-invalid-parameters-ref.go @ 4564255ac2c3",
)
