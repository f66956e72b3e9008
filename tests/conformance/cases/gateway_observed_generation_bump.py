"""GatewayObservedGenerationBump (conformance/tests/gateway-observed-generation-bump.go): after a
spec change (a listener added), every condition of the Gateway carries the new generation."""

from ..expect import INFRA, Key
from ..suite import Checks, ConformanceTest

GATEWAY = Key(INFRA, "gateway-observed-generation-bump")
LISTENERS = [
    {"name": "http", "hostname": "bar.com", "port": 80, "protocol": "HTTP",
     "allowedRoutes": {"namespaces": {"from": "All"}}},
    {"name": "alternate", "hostname": "foo.com", "port": 80, "protocol": "HTTP",
     "allowedRoutes": {"namespaces": {"from": "All"}}},
]


def body(t: Checks) -> None:
    t.latest_generation("Gateway", GATEWAY, 1)
    # A merge patch replaces the list: the existing listener and the new one (upstream appends).
    t.patch("Gateway", GATEWAY, {"spec": {"listeners": LISTENERS}})
    t.latest_generation("Gateway", GATEWAY, 2)


TEST = ConformanceTest(
    short_name="GatewayObservedGenerationBump",
    description="A Gateway in the gateway-conformance-infra namespace should update the observedGeneration in all "
                "of its Status.Conditions after an update to the spec",
    manifests=("gateway-observed-generation-bump.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-observed-generation-bump.go @ 4564255ac2c3",
)
