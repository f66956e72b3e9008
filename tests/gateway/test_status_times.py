"""keep_transition_times: lastTransitionTime moves only when a condition's status does
(Kubernetes meta/v1 Condition: "the last time the condition transitioned from one status to another")."""

from __future__ import annotations

import copy

from meshgate.gateway.status_times import keep_object_times, keep_transition_times

THEN = "2026-01-01T00:00:00Z"
NOW = "2026-01-01T00:05:00Z"


def cond(type_: str, status: str = "True", when: str = NOW, reason: str = "", generation: int = 1) -> dict:
    return {"type": type_, "status": status, "reason": reason or type_, "message": "", "observedGeneration": generation,
            "lastTransitionTime": when}


def gateway(conditions: list[dict], listeners: dict[str, list[dict]], name: str = "gw") -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"namespace": "ns", "name": name},
            "status": {"conditions": conditions,
                       "listeners": [{"name": n, "attachedRoutes": 1, "conditions": c} for n, c in listeners.items()]}}


def route(parents: list[tuple[dict, list[dict]]]) -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"namespace": "ns", "name": "r"},
            "status": {"parents": [{"parentRef": ref, "controllerName": "meshgate.io/gateway-controller",
                                    "conditions": c} for ref, c in parents]}}


def times(conditions: list[dict]) -> dict[str, str]:
    return {c["type"]: c["lastTransitionTime"] for c in conditions}


def test_an_unchanged_status_keeps_its_time_even_when_reason_message_or_generation_move() -> None:
    previous = [gateway([cond("Accepted", when=THEN), cond("Programmed", when=THEN)], {})]
    current = [gateway([cond("Accepted", reason="Accepted", generation=2),
                        cond("Programmed", reason="Programmed", generation=2) | {"message": "now with a message"}], {})]
    out = keep_transition_times(previous, current)
    conds = out[0]["status"]["conditions"]
    assert times(conds) == {"Accepted": THEN, "Programmed": THEN}
    assert [c["observedGeneration"] for c in conds] == [2, 2]
    assert conds[1]["message"] == "now with a message"


def test_a_changed_status_or_a_new_condition_takes_the_new_time() -> None:
    previous = [gateway([cond("Accepted", when=THEN), cond("Programmed", when=THEN)], {})]
    current = [gateway([cond("Accepted"), cond("Programmed", "False", reason="Invalid"), cond("ResolvedRefs")], {})]
    out = keep_transition_times(previous, current)
    assert times(out[0]["status"]["conditions"]) == {"Accepted": THEN, "Programmed": NOW, "ResolvedRefs": NOW}


def test_listeners_are_matched_by_name() -> None:
    previous = [gateway([], {"http": [cond("Programmed", when=THEN)], "https": [cond("Programmed", "False", THEN)]})]
    # The listeners come in another order; https turned True, and "extra" is new.
    current = [gateway([], {"https": [cond("Programmed")], "extra": [cond("Programmed")], "http": [cond("Programmed")]})]
    out = keep_transition_times(previous, current)
    assert {ls["name"]: times(ls["conditions"])["Programmed"] for ls in out[0]["status"]["listeners"]} == {
        "https": NOW, "extra": NOW, "http": THEN}
    assert [ls["attachedRoutes"] for ls in out[0]["status"]["listeners"]] == [1, 1, 1]


def test_route_parents_are_matched_by_parent_ref_whatever_its_key_order() -> None:
    a = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "a", "namespace": "ns"}
    b = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "b", "namespace": "ns"}
    previous = [route([(a, [cond("Accepted", when=THEN)]), (b, [cond("Accepted", when=THEN)])])]
    a_reordered = dict(reversed(list(a.items())))
    b_section = {**b, "sectionName": "http"}  # another parentRef: a new parent
    out = keep_transition_times(previous, [route([(b_section, [cond("Accepted")]), (a_reordered, [cond("Accepted")])])])
    assert [times(p["conditions"])["Accepted"] for p in out[0]["status"]["parents"]] == [NOW, THEN]


def test_objects_are_matched_by_kind_namespace_and_name() -> None:
    previous = [gateway([cond("Accepted", when=THEN)], {}, name="gw")]
    current = [gateway([cond("Accepted")], {}, name="other"), gateway([cond("Accepted")], {}, name="gw")]
    out = keep_transition_times(previous, current)
    assert [times(o["status"]["conditions"])["Accepted"] for o in out] == [NOW, THEN]
    # A Gateway's time is not an HTTPRoute's of the same name.
    as_route = route([])
    as_route["metadata"]["name"], as_route["status"]["conditions"] = "gw", [cond("Accepted")]
    assert times(keep_transition_times(previous, [as_route])[0]["status"]["conditions"]) == {"Accepted": NOW}


def test_neither_argument_is_modified() -> None:
    previous = [gateway([cond("Accepted", when=THEN)], {"http": [cond("Programmed", when=THEN)]})]
    current = [gateway([cond("Accepted")], {"http": [cond("Programmed")]})]
    before = copy.deepcopy((previous, current))
    keep_transition_times(previous, current)
    assert (previous, current) == before
    assert keep_transition_times([], current) == current


def test_an_object_whose_times_all_hold_is_handed_back_itself() -> None:
    before = gateway([cond("Accepted", when=THEN)], {"http": [cond("Programmed", when=THEN)]})
    same_times = gateway([cond("Accepted", when=THEN, generation=2)], {"http": [cond("Programmed", when=THEN)]})
    assert keep_object_times(before, same_times) is same_times
    later = gateway([cond("Accepted", when=THEN)], {"http": [cond("Programmed")]})
    kept = keep_object_times(before, later)
    assert kept is not later and kept["status"]["listeners"][0]["conditions"][0]["lastTransitionTime"] == THEN
