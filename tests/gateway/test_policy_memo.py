"""What the policy memo (gateway/policies/memo.py) hands out again: a translation over an
unchanged store gives the very same policy-shaped virtual hosts and policy status objects (the
xDS stage and the control plane's transition times then skip them), and a status that says
something new keeps the transition times of the conditions that held."""

from __future__ import annotations

from meshgate.discovery.index import Discovery
from meshgate.gateway.policies.memo import PolicyMemo
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.ir import VirtualHost

from .test_policy_attachment import GATEWAY, ROUTE, _policy, _store

LATER = "2026-01-02T00:00:00Z"


def _hosts(out: GatewayTranslation) -> dict[str, VirtualHost]:
    return {vh.name: vh for rc in out.gateways[0].route_configs for vh in rc.virtual_hosts}


def _policy_status(out: GatewayTranslation, name: str) -> dict:
    return next(s for s in out.status if s["kind"] == "BackendTrafficPolicy" and s["metadata"]["name"] == name)


def test_an_unchanged_store_gets_the_same_policy_shaped_hosts_and_statuses() -> None:
    store = _store(_policy("gw-wide", GATEWAY, 1), _policy("route", ROUTE, 3))
    table = RouteTable(store, Discovery(store))
    first = translate_gateways(store, Discovery(store), "2026-01-01T00:00:00Z", table=table)
    second = translate_gateways(store, Discovery(store), LATER, table=table)
    before, after = _hosts(first), _hosts(second)
    shaped = [name for name, vh in before.items() if any(r.retry is not None for r in vh.routes)]
    assert shaped and set(before) == set(after)
    for name in shaped:
        assert after[name] is before[name], name
    for policy in ("gw-wide", "route"):
        assert _policy_status(second, policy) is _policy_status(first, policy)
    # And what it hands out is what a translation from scratch makes.
    fresh = translate_gateways(store, Discovery(store), LATER)
    assert fresh.gateways == second.gateways


def _said(message: str, time: str) -> dict:
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "BackendTrafficPolicy",
            "metadata": {"namespace": "gw", "name": "p"}, "status": {"ancestors": [{
                "ancestorRef": {"name": "web"}, "controllerName": "meshgate.io/gateway-controller",
                "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "ok",
                                "observedGeneration": 1, "lastTransitionTime": time},
                               {"type": "Overridden", "status": "True", "reason": "Overridden",
                                "message": message, "observedGeneration": 1, "lastTransitionTime": time}]}]}}


def test_a_status_that_says_something_new_keeps_the_times_of_conditions_that_held() -> None:
    memo = PolicyMemo()
    policy = object()
    key = ("BackendTrafficPolicy", "gw", "p")
    first = memo.status(key, policy, ("one",), lambda: _said("by [gw/a]", "T1"))
    assert memo.status(key, policy, ("one",), lambda: _said("unused", "T9")) is first
    second = memo.status(key, policy, ("two",), lambda: _said("by [gw/a, gw/b]", "T2"))
    conditions = second["status"]["ancestors"][0]["conditions"]
    assert [(c["message"], c["lastTransitionTime"]) for c in conditions] == [("ok", "T1"), ("by [gw/a, gw/b]", "T1")]
    # Another policy object under the same name is a new status, its times kept likewise.
    third = memo.status(key, object(), ("two",), lambda: _said("by [gw/a, gw/b]", "T3"))
    assert third is not second and third["status"]["ancestors"][0]["conditions"][0]["lastTransitionTime"] == "T1"
