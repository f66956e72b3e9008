"""GatewayClassObservedGenerationBump (conformance/tests/gatewayclass-observed-generation-bump.go):
after a spec change (its description), every condition of the GatewayClass carries the new
generation, and it is still Accepted."""

from ..expect import Key
from ..suite import Checks, ConformanceTest

CLASS = Key("", "gatewayclass-observed-generation-bump")


def body(t: Checks) -> None:
    t.latest_generation("GatewayClass", CLASS, 1)
    t.patch("GatewayClass", CLASS, {"spec": {"description": "new"}})
    t.latest_generation("GatewayClass", CLASS, 2)


TEST = ConformanceTest(
    short_name="GatewayClassObservedGenerationBump",
    description="A GatewayClass should update the observedGeneration in all of it's Status.Conditions after an "
                "update to the spec",
    manifests=("gatewayclass-observed-generation-bump.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gatewayclass-observed-generation-bump.go @ 4564255ac2c3",
)
