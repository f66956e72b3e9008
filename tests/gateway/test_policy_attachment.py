"""Which BackendTrafficPolicy a route gets (gateway/policies/attachment.py): rule over route over
listener over Gateway, the older policy on a shared target, label selectors, and targets that do
not exist; and what the translation makes of it (the route's retry, its status)."""

from __future__ import annotations

from meshgate.discovery.index import Discovery
from meshgate.gateway.policies.attachment import TargetKey, attach
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.ir import SourceRef
from meshgate.resources.loader import load_text
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"
BASE = """apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: meshgate}
spec: {controllerName: meshgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: a, port: 8080, protocol: HTTP, hostname: "a.example"}
  - {name: b, port: 8080, protocol: HTTP, hostname: "b.example"}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: gw}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: gw, labels: {tier: gold}}
spec:
  parentRefs: [{name: web}]
  rules:
  - {name: first, matches: [{path: {value: /first}}], backendRefs: [{name: svc, port: 8080}]}
  - {name: second, matches: [{path: {value: /second}}], backendRefs: [{name: svc, port: 8080}]}
"""


def _policy(name: str, target: str, retries: int, created: str = NOW) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {{name: {name}, namespace: gw, creationTimestamp: "{created}"}}
spec:
  {target}
  retry: {{numRetries: {retries}}}
"""


GATEWAY = "targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]"
LISTENER_B = "targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web, sectionName: b}]"
ROUTE = "targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]"
RULE = "targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r, sectionName: first}]"
SELECTOR = "targetSelectors: [{kind: HTTPRoute, matchExpressions: [{key: tier, operator: In, values: [gold]}]}]"


def _store(*docs: str) -> Store:
    store = Store()
    loaded = load_text("---\n".join([BASE, *docs]), "in.yaml", NOW)
    assert [e for e in loaded.errors if e.severity == "error"] == []
    store.apply(loaded.objects, [])
    return store


def _translate(store: Store) -> GatewayTranslation:
    return translate_gateways(store, Discovery(store), NOW)


def _retries(out: GatewayTranslation) -> dict[tuple[str, str], int | None]:
    """(host, rule) → the route's retries."""
    found: dict[tuple[str, str], int | None] = {}
    for rc in out.gateways[0].route_configs:
        for vh in rc.virtual_hosts:
            for r in vh.routes:
                if r.source is not None and r.source.kind == "HTTPRoute":
                    found[(vh.domains[0], r.source.section_name or "")] = r.retry.num_retries if r.retry else None
    return found


def _status(out: GatewayTranslation, name: str) -> list[list[tuple[str, str, str]]]:
    status = next(s for s in out.status if s["kind"] == "BackendTrafficPolicy" and s["metadata"]["name"] == name)
    return [[(c["type"], c["status"], c["reason"]) for c in a["conditions"]] for a in status["status"]["ancestors"]]


def test_the_most_specific_policy_applies_and_overrides_the_others() -> None:
    out = _translate(_store(_policy("gw-wide", GATEWAY, 1), _policy("listener-b", LISTENER_B, 2),
                            _policy("route", ROUTE, 3), _policy("rule", RULE, 4)))
    assert _retries(out) == {("a.example", "first"): 4, ("a.example", "second"): 3,
                             ("b.example", "first"): 4, ("b.example", "second"): 3}
    assert _status(out, "gw-wide") == [[("Accepted", "True", "Accepted"), ("Overridden", "True", "Overridden")]]
    assert _status(out, "rule") == [[("Accepted", "True", "Accepted")]]


def test_without_route_policies_the_listener_policy_beats_the_gateway_policy() -> None:
    out = _translate(_store(_policy("gw-wide", GATEWAY, 1), _policy("listener-b", LISTENER_B, 2)))
    assert _retries(out) == {("a.example", "first"): 1, ("a.example", "second"): 1,
                             ("b.example", "first"): 2, ("b.example", "second"): 2}


def test_the_older_policy_keeps_a_shared_target_and_the_newer_is_conflicted() -> None:
    store = _store(_policy("new", ROUTE, 5, "2026-02-01T00:00:00Z"), _policy("old", ROUTE, 6, "2026-01-15T00:00:00Z"))
    out = _translate(store)
    assert set(_retries(out).values()) == {6}
    assert _status(out, "new") == [[("Accepted", "False", "Conflicted")]]
    assert _status(out, "old") == [[("Accepted", "True", "Accepted")]]


def test_same_age_policies_are_ordered_by_name() -> None:
    out = _translate(_store(_policy("b", ROUTE, 5), _policy("a", ROUTE, 6)))
    assert set(_retries(out).values()) == {6}


def test_a_selector_attaches_to_the_routes_whose_labels_match() -> None:
    out = _translate(_store(_policy("by-label", SELECTOR, 7)))
    assert set(_retries(out).values()) == {7}
    other = SELECTOR.replace("[gold]", "[silver]")
    out = _translate(_store(_policy("by-label", other, 7)))
    assert set(_retries(out).values()) == {None}


def test_targets_that_do_not_exist_are_warnings_and_apply_nowhere() -> None:
    missing_rule = RULE.replace("first", "third")
    store = _store(_policy("no-rule", missing_rule, 8), _policy("no-route", ROUTE.replace("name: r", "name: gone"), 9))
    att = attach(store, "BackendTrafficPolicy", lambda p: p.targets)
    assert sorted(p.reason for p in att.problems) == [
        "HTTPRoute gw/gone does not exist: the policy does not apply to it",
        "HTTPRoute gw/r has no rule named third: the policy does not apply to it"]
    assert all(p.severity == "warning" and p.field.startswith("spec.targetRefs") for p in att.problems)
    out = _translate(store)
    assert set(_retries(out).values()) == {None}
    assert _status(out, "no-rule") == []


def test_effective_names_the_level_that_won() -> None:
    store = _store(_policy("gw-wide", GATEWAY, 1), _policy("rule", RULE, 4))
    att = attach(store, "BackendTrafficPolicy", lambda p: p.targets)
    first = SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "gw", "r", "first")
    second = SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "gw", "r", "second")
    found = att.effective(("gw", "web"), ("a",), first)
    assert found is not None and (found[0].meta.name, found[1]) == ("rule", "rule")
    assert found[2] == ((TargetKey("Gateway", "gw", "web"), ("gw", "gw-wide")),)
    att.record(found[2], "gw/r")
    found = att.effective(("gw", "web"), ("a",), second)
    assert found is not None and (found[0].meta.name, found[1], found[2]) == ("gw-wide", "gateway", ())
    assert att.overrides() == {(TargetKey("Gateway", "gw", "web"), ("gw", "gw-wide")): {"gw/r"}}
