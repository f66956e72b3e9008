"""GatewayModifyListeners (conformance/tests/gateway-modify-listeners.go): a listener added to a
Gateway is accepted and counts its route; a listener removed from one leaves its status; and
every condition follows the Gateway's new generation."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

ADD = Key(INFRA, "gateway-add-listener")
REMOVE = Key(INFRA, "gateway-remove-listener")
_OK = (Condition("Accepted", "True"), Condition("ResolvedRefs", "True"))
NEW_LISTENER = {"name": "http", "port": 80, "protocol": "HTTP", "hostname": "data.test.com",
                "allowedRoutes": {"namespaces": {"from": "All"}}}


def body(t: Checks) -> None:
    # Adding a listener (the merge patch carries the whole list, as client.MergeFrom sends it).
    t.gateway_latest_conditions(ADD)
    listeners = t.gateway_spec(ADD)["listeners"]
    t.patch("Gateway", ADD, {"spec": {"listeners": [*listeners, NEW_LISTENER]}})
    t.gateway_listeners(ADD, (ExpectedListener("https", 1, conditions=_OK), ExpectedListener("http", 1, conditions=_OK)))
    t.gateway_latest_conditions(ADD)

    # Removing one: only "http" is left.
    t.gateway_latest_conditions(REMOVE)
    listeners = t.gateway_spec(REMOVE)["listeners"]
    if len(listeners) != 2:
        t.fail(f"the gateway must have 2 listeners, has {len(listeners)}")
    t.patch("Gateway", REMOVE, {"spec": {"listeners": [ls for ls in listeners if ls["name"] == "http"]}})
    t.gateway_listeners(REMOVE, (ExpectedListener("http", 1, conditions=_OK),))
    t.gateway_latest_conditions(REMOVE)


TEST = ConformanceTest(
    short_name="GatewayModifyListeners",
    description="A Gateway in the gateway-conformance-infra namespace should handle adding and removing listeners.",
    manifests=("gateway-modify-listeners.yaml",),
    features=("Gateway",),
    body=body,
    source="conformance/tests/gateway-modify-listeners.go @ 4564255ac2c3",
)
