"""What the status writer writes over the status an object holds in the API."""

from __future__ import annotations

from meshgate.cluster.status_writer import desired_status
from meshgate.naming import CONTROLLER_NAME


def cond(type_: str, status: str, when: str, reason: str = "R") -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": "", "observedGeneration": 1,
            "lastTransitionTime": when}


def test_a_condition_whose_status_holds_keeps_the_api_servers_time() -> None:
    # A new leader (or a restarted replica) translated at its own time: no flapping times.
    have = {"conditions": [cond("Accepted", "True", "2026-01-01T00:00:00Z")]}
    ours = {"conditions": [cond("Accepted", "True", "2026-12-04T10:00:00Z", reason="Other")]}
    want = desired_status(ours, have)
    assert want["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert want["conditions"][0]["reason"] == "Other"


def test_a_condition_whose_status_changed_takes_our_time() -> None:
    have = {"conditions": [cond("Accepted", "True", "2026-01-01T00:00:00Z")]}
    ours = {"conditions": [cond("Accepted", "False", "2026-12-04T10:00:00Z")]}
    assert desired_status(ours, have)["conditions"][0]["lastTransitionTime"] == "2026-12-04T10:00:00Z"


def test_other_controllers_parents_are_kept_and_ours_replaced() -> None:
    theirs = {"parentRef": {"name": "other-gw"}, "controllerName": "example.com/other", "conditions": []}
    old_ours = {"parentRef": {"name": "gw"}, "controllerName": CONTROLLER_NAME,
                "conditions": [cond("Accepted", "True", "2026-01-01T00:00:00Z")]}
    new_ours = {"parentRef": {"name": "gw"}, "controllerName": CONTROLLER_NAME,
                "conditions": [cond("Accepted", "True", "2026-12-04T10:00:00Z"),
                               cond("ResolvedRefs", "False", "2026-12-04T10:00:00Z")]}
    want = desired_status({"parents": [new_ours]}, {"parents": [theirs, old_ours]})
    assert [p["controllerName"] for p in want["parents"]] == ["example.com/other", CONTROLLER_NAME]
    assert want["parents"][0] is theirs
    accepted, resolved = want["parents"][1]["conditions"]
    assert accepted["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert resolved["lastTransitionTime"] == "2026-12-04T10:00:00Z"


def test_an_object_without_status_gets_ours() -> None:
    ours = {"conditions": [cond("Accepted", "True", "2026-12-04T10:00:00Z")]}
    assert desired_status(ours, None) == ours
    assert desired_status(ours, {}) == ours


def test_a_changed_condition_never_goes_back_in_time() -> None:
    # The API says Programmed=False since 10:05 (an overlay: replicas were unavailable); ours,
    # translated at 10:00, says True: the transition is now, not 10:00.
    have = {"conditions": [cond("Programmed", "False", "2026-12-04T10:05:00Z")]}
    ours = {"conditions": [cond("Programmed", "True", "2026-12-04T10:00:00Z")]}
    want = desired_status(ours, have, now="2026-12-04T10:07:00Z")
    assert want["conditions"][0]["lastTransitionTime"] == "2026-12-04T10:07:00Z"
    later = {"conditions": [cond("Programmed", "True", "2026-12-04T10:06:00Z")]}
    assert desired_status(later, have, now="2026-12-04T10:07:00Z")["conditions"][0][
        "lastTransitionTime"] == "2026-12-04T10:06:00Z"
