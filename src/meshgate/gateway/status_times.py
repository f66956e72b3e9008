"""lastTransitionTime as Kubernetes means it: the last time a condition's status changed.

Translation stamps every condition with the time it ran. Kubernetes' meta/v1 Condition says
lastTransitionTime is "the last time the condition transitioned from one status to another",
so a condition whose type and status are what they were keeps the time it had, even when its
reason, message or observedGeneration moved. The control plane keeps the previous status and
applies `keep_transition_times` after each translation.
"""

from __future__ import annotations

# The lists in a status whose entries carry conditions, and the fields that say which entry is
# which (an entry whose key is new has no previous conditions).
_ENTRY_KEYS: dict[str, tuple[str, ...]] = {
    "listeners": ("name",),
    "parents": ("parentRef", "controllerName"),
    "ancestors": ("ancestorRef", "controllerName"),
}


def _object_key(obj: dict) -> tuple[str, str, str, str]:
    md = obj.get("metadata", {})
    return (obj.get("apiVersion", ""), obj.get("kind", ""), md.get("namespace", ""), md.get("name", ""))


def _same(a: dict, b: dict, fields: tuple[str, ...]) -> bool:
    # Mappings (a parentRef) compare by content, whatever their key order.
    return all(a.get(f) == b.get(f) for f in fields)


def _match(previous: list[dict], i: int, entry: dict, fields: tuple[str, ...]) -> dict | None:
    """The entry of `previous` with `entry`'s `fields`: the one at the same position first (the
    translation keeps its order), else the first anywhere (the lists are short: conditions,
    listeners, parents)."""
    if i < len(previous) and _same(previous[i], entry, fields):
        return previous[i]
    return next((e for e in previous if _same(e, entry, fields)), None)


def _keep(previous: list[dict] | None, current: list[dict]) -> list[dict]:
    """`current` conditions, each with its previous time where its type and status are unchanged
    (copies where a time is kept; the others as they are; `current` itself when none is)."""
    if not previous:
        return current
    out = []
    kept = False
    for i, c in enumerate(current):
        old = _match(previous, i, c, ("type",))
        if old is not None and old.get("status") == c.get("status"):
            when = old.get("lastTransitionTime")
            if when and when != c.get("lastTransitionTime"):
                c = {**c, "lastTransitionTime": when}
                kept = True
        out.append(c)
    return out if kept else current


def _keep_in_status(previous: dict, current: dict) -> dict:
    """`current` with the times of `previous` kept (`current` itself when no time moves)."""
    out = dict(current)
    kept = False
    if "conditions" in current:
        out["conditions"] = _keep(previous.get("conditions"), current["conditions"])
        kept = out["conditions"] is not current["conditions"]
    for list_name, fields in _ENTRY_KEYS.items():
        if list_name not in current:
            continue
        before = previous.get(list_name) or []
        entries = []
        for i, entry in enumerate(current[list_name]):
            old = _match(before, i, entry, fields)
            if old is not None and "conditions" in entry:
                conditions = _keep(old.get("conditions"), entry["conditions"])
                if conditions is not entry["conditions"]:
                    entry = {**entry, "conditions": conditions}
                    kept = True
            entries.append(entry)
        out[list_name] = entries
    return out if kept else current


def keep_object_times(previous: dict | None, current: dict) -> dict:
    """One status object of `current`, with the times of `previous` (the same object's last
    status) kept where `keep_transition_times` would keep them (`current` itself when none is)."""
    if previous is None or previous is current or "status" not in current:
        return current
    status = _keep_in_status(previous.get("status") or {}, current["status"])
    return current if status is current["status"] else {**current, "status": status}


def keep_transition_times(previous: list[dict], current: list[dict]) -> list[dict]:
    """`current` status objects with lastTransitionTime taken from `previous` wherever a
    condition's status did not change (the same object, the same listener or parent, the same
    condition type and status).

    A condition that is new, or whose status changed, keeps the time `current` gives it. Neither
    argument is modified (what changes is copied).
    """
    if not previous:
        return current
    # Status objects a translation reused from the last one (a route whose outcome held,
    # gateway/route_outcomes.py) are the very same dicts: nothing to compare.
    same = {id(obj) for obj in previous}
    before = {_object_key(obj): obj for obj in previous}
    out = []
    for obj in current:
        if id(obj) in same:
            out.append(obj)
            continue
        out.append(keep_object_times(before.get(_object_key(obj)), obj))
    return out
