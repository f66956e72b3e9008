"""GatewayStaticAddresses (conformance/tests/gateway-static-addresses.go): a Gateway asking for an
address of a type meshgate does not support is not accepted (UnsupportedAddress); without it, one
that cannot be given (outside the address pool) leaves it accepted but not programmed
(AddressNotUsable); with only the usable address left it is programmed, and that address, alone,
is in its status.

The suite fills the placeholders with the addresses it is given (--usable-address,
--unusable-address); here the pool's last address and one outside every pool (cluster.py)."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAY = Key(INFRA, "gateway-static-addresses")
FINAL_LISTENERS = (ExpectedListener("http", 0, conditions=(Condition("Accepted", "True"),
                                                           Condition("ResolvedRefs", "True"))),)


def body(t: Checks) -> None:
    t.gateway_latest_conditions(GATEWAY)
    addresses = t.gateway_spec(GATEWAY).get("addresses") or []
    if len(addresses) != 3:
        t.fail(f"expected 3 addresses on the Gateway, one invalid, one usable and one unusable, got {len(addresses)}")
    invalid, unusable, usable = addresses

    t.gateway_condition(GATEWAY, Condition("Accepted", "False", "UnsupportedAddress"))
    left = [a for a in addresses if a["value"] != invalid["value"]]
    t.patch("Gateway", GATEWAY, {"spec": {"addresses": left}})
    t.gateway_latest_conditions(GATEWAY)
    t.gateway_condition(GATEWAY, Condition("Accepted", "True", "Accepted"))
    t.gateway_condition(GATEWAY, Condition("Programmed", "False", "AddressNotUsable"))

    left = [a for a in left if a["value"] != unusable["value"]]
    t.patch("Gateway", GATEWAY, {"spec": {"addresses": left}})
    t.gateway_latest_conditions(GATEWAY)
    t.gateway_condition(GATEWAY, Condition("Accepted", "True", "Accepted"))
    t.gateway_condition(GATEWAY, Condition("Programmed", "True", "Programmed"))
    t.gateway_listeners(GATEWAY, FINAL_LISTENERS)
    t.eventually("only 1 status address on the Gateway", lambda: None if len(
        found := t.gateway_status_addresses(GATEWAY)) == 1 else f"status.addresses is {found}")
    found = t.gateway_status_addresses(GATEWAY)
    values = [a.get("value") for a in found]
    for what, address in (("the unusable", unusable), ("the invalid", invalid)):
        if address["value"] in values:
            t.fail(f"status.addresses {values} should not contain {what} address {address['value']}")
    if usable["value"] not in values:
        t.fail(f"status.addresses {values} should contain the usable address {usable['value']}")
    for a in found:
        if a.get("value") == usable["value"] and a.get("type") != usable.get("type"):
            t.fail(f"address type {a.get('type')!r}, expected {usable.get('type')!r} (the usable address's)")


TEST = ConformanceTest(
    short_name="GatewayStaticAddresses",
    description="A Gateway in the gateway-conformance-infra namespace should be able to use previously determined "
                "addresses.",
    manifests=("gateway-static-addresses.yaml",),
    features=("Gateway", "GatewayStaticAddresses"),
    body=body,
    source="conformance/tests/gateway-static-addresses.go @ 4564255ac2c3",
)
