"""What the policy memo (gateway/policies/memo.py) hands out again: a translation over an
unchanged store gives the very same policy-shaped virtual hosts and policy status objects (the
xDS stage and the control plane's transition times then skip them), and a status that says
something new keeps the transition times of the conditions that held."""

from __future__ import annotations

from meshgate.discovery.index import Discovery
from meshgate.gateway.policies.attachment import TargetKey, attach
from meshgate.gateway.policies.memo import PolicyMemo
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.ir import VirtualHost
from meshgate.resources.loader import load_text

from .test_policy_attachment import GATEWAY, ROUTE, RULE, SELECTOR, _policy, _store

ROUTE_WITHOUT_FIRST = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: gw, labels: {tier: gold}}
spec:
  parentRefs: [{name: web}]
  rules:
  - {name: second, matches: [{path: {value: /second}}], backendRefs: [{name: svc, port: 8080}]}
"""

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


def test_attachments_are_reused_while_policies_and_targets_hold_and_redone_when_a_target_changes() -> None:
    store = _store(_policy("gw-wide", GATEWAY, 1), _policy("rule", RULE, 3))
    memo = PolicyMemo()
    first = attach(store, "BackendTrafficPolicy", lambda p: p.targets)
    first.record(((TargetKey("Gateway", "gw", "web"), ("gw", "gw-wide")),), "gw/r")
    assert first.overrides()
    memo.attachments["BackendTrafficPolicy"] = first
    again = attach(store, "BackendTrafficPolicy", lambda p: p.targets, first)
    assert again is first and again.overrides() == {}  # restarted: recorded anew by the translation
    # The route loses the rule the policy names: attached again, the rule target is gone.
    edited = load_text(ROUTE_WITHOUT_FIRST, "in.yaml", "2026-01-01T00:00:00Z").objects
    store.apply(edited, [])
    redone = attach(store, "BackendTrafficPolicy", lambda p: p.targets, first)
    assert redone is not first
    assert TargetKey("HTTPRoute", "gw", "r", "first") in first.winner
    assert TargetKey("HTTPRoute", "gw", "r", "first") not in redone.winner
    assert [p.reason for p in redone.problems] == ["HTTPRoute gw/r has no rule named first: the policy does not apply to it"]
    # Label selectors read every route of the namespace: never reused.
    selecting = _store(_policy("picked", SELECTOR, 2))
    picked = attach(selecting, "BackendTrafficPolicy", lambda p: p.targets)
    assert attach(selecting, "BackendTrafficPolicy", lambda p: p.targets, picked) is not picked


def test_translations_reuse_attachments_and_still_equal_a_fresh_one_after_a_target_edit() -> None:
    store = _store(_policy("gw-wide", GATEWAY, 1), _policy("rule", RULE, 3))
    table = RouteTable(store, Discovery(store))
    first = translate_gateways(store, Discovery(store), "2026-01-01T00:00:00Z", table=table)
    assert "Overridden" in str(_untimed(first))  # the rule's policy overrides the Gateway's for r
    kept = table.policies.attachments["BackendTrafficPolicy"]
    translate_gateways(store, Discovery(store), LATER, table=table)
    assert table.policies.attachments["BackendTrafficPolicy"] is kept
    store.apply(load_text(ROUTE_WITHOUT_FIRST, "in.yaml", "2026-01-01T00:00:00Z").objects, [])
    after = translate_gateways(store, Discovery(store), LATER, table=table)
    assert table.policies.attachments["BackendTrafficPolicy"] is not kept
    fresh = translate_gateways(store, Discovery(store), LATER)
    assert fresh.gateways == after.gateways
    # The same statuses, but for the transition times the table kept from the first translation.
    assert _untimed(fresh) == _untimed(after)
    assert "Overridden" not in str(_untimed(after))  # the rule's policy lost its rule: nothing overrides


def _untimed(out: GatewayTranslation) -> list[dict]:
    found = [s for s in out.status if s["kind"] == "BackendTrafficPolicy"]
    for s in found:
        for a in s["status"]["ancestors"]:
            a["conditions"] = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in a["conditions"]]
    return found
