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
    spec_changed = dataclasses.replace(new, meta=old.meta, source=old.source) != old
    meta = dataclasses.replace(
        new.meta, uid=old.meta.uid, creation_timestamp=old.meta.creation_timestamp,
        generation=old.meta.generation + 1 if spec_changed else old.meta.generation)
    # With the spec equal, the result equals `old` exactly when its meta and origin do (a spec
    # change always changes the generation).
    if not spec_changed and meta == old.meta and new.source == old.source:
        return old
    return dataclasses.replace(new, meta=meta)
