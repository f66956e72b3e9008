"""GatewayOptionalAddressValue (conformance/tests/gateway-optional-address-value.go): a Gateway asking
for an IPAddress without a value gets one assigned, shown in status.addresses (here from
`meshgate run --address-pool`)."""

from ..expect import INFRA, GatewayRef
from ..suite import Checks, ConformanceTest

GATEWAY = GatewayRef(INFRA, "gateway-without-address-value", ("http",))


def body(t: Checks) -> None:
    t.gateway_latest_conditions(GATEWAY.key)
    t.gateway_address(GATEWAY)


TEST = ConformanceTest(
    short_name="GatewayOptionalAddressValue",
    description="Check Gateway Support for GatewayAddressEmpty feature",
    manifests=("gateway-optional-address-value.yaml",),
    features=("Gateway", "GatewayAddressEmpty"),
    body=body,
    provisional=True,
    source="conformance/tests/gateway-optional-address-value.go @ 4564255ac2c3",
)
