"""GatewayNameMaximumLength (conformance/tests/gateway-name-maximum-length.go): a Gateway whose name
has the 253 characters a DNS subdomain allows is reconciled: its conditions carry its generation
(no particular condition values are asserted upstream)."""

from ..expect import INFRA, Key
from ..suite import Checks, ConformanceTest

PREFIX = "gateway-name-maximum-length-"
GATEWAY = Key(INFRA, PREFIX + "a" * (253 - len(PREFIX)))


def body(t: Checks) -> None:
    t.gateway_latest_conditions(GATEWAY)


TEST = ConformanceTest(
    short_name="GatewayNameMaximumLength",
    description="A Gateway with a 253-character name should be reconciled by the implementation. The test only "
                "verifies that status conditions have an updated observedGeneration and does not assert specific "
                "condition values.",
    manifests=("gateway-name-maximum-length.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-name-maximum-length.go @ 4564255ac2c3",
)
