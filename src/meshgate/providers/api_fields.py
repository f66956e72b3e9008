"""What an API server fills in when an object is updated, emulated for objects read from files.

The Kubernetes API server keeps an object's `uid` and `creationTimestamp` across updates and
bumps `metadata.generation` when anything but metadata changes (the spec, for the kinds meshgate
reads). A file holds none of that history, so the file provider applies this to each new
version of an object against the version it served before. The store stores what a provider
gives it: a Kubernetes provider gets these fields from the API server and never calls this.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def as_updated(old: Any, new: Any) -> Any:
    """`new` as the API server would store it over `old` (same kind, namespace and name).

    It keeps `old`'s uid and creationTimestamp, and `old`'s generation, plus one when anything
    but metadata and origin changed. `old` itself when the result would equal it, so that a
    re-read that changed nothing (a touched file: a new creationTimestamp from its mtime) is
    no change at all.
    """
    same_origin = dataclasses.replace(new, meta=old.meta, source=old.source)
    # Line numbers inside the object (a listener's, a rule's) are origin too: an edit above the
    # object in its file moves them without touching its spec (GatewayModifyListeners patches
    # one Gateway of a file; the next one must keep its generation).
    spec_changed = same_origin != old and _without_lines(same_origin) != _without_lines(old)
    meta = dataclasses.replace(
        new.meta, uid=old.meta.uid, creation_timestamp=old.meta.creation_timestamp,
        generation=old.meta.generation + 1 if spec_changed else old.meta.generation)
    # The result equals `old` exactly when its meta, origin and inner lines do.
    if same_origin == old and meta == old.meta and new.source == old.source:
        return old
    return dataclasses.replace(new, meta=meta)


def _without_lines(value: Any) -> Any:
    """`value` with every dataclass field named `line` or `*_line` set to 0, recursively through
    dataclasses, tuples, lists and dict values (for comparing specs, never stored)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            stripped = 0 if (f.name == "line" or f.name.endswith("_line")) and isinstance(current, int) \
                else _without_lines(current)
            if stripped is not current:
                changes[f.name] = stripped
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple | list):
        items = [_without_lines(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else type(value)(items)
    if isinstance(value, dict):
        stripped_map = {k: _without_lines(v) for k, v in value.items()}
        return value if all(stripped_map[k] is v for k, v in value.items()) else stripped_map
    return value
