"""The reload log's pure parts: names capped, and an input error's identity across reloads."""

from __future__ import annotations

from meshgate.resources.errors import InputError
from meshgate.resources.meta import ObjectKey
from meshgate.runtime.reload_log import MAX_NAMES, ObjectChanges, ReloadLog, describe_objects


def test_names_are_capped_and_counted() -> None:
    keys = [ObjectKey("HTTPRoute", "ns", f"r{i}") for i in range(MAX_NAMES + 3)]
    text = describe_objects(ObjectChanges(added=keys, removed=keys[:1]))
    assert text == ("added " + ", ".join(f"HTTPRoute ns/r{i}" for i in range(MAX_NAMES)) + " (+3 more); "
                    "removed HTTPRoute ns/r0")
    assert describe_objects(ObjectChanges()) == "no object changed"


def test_an_error_is_new_once_and_resolved_once() -> None:
    log = ReloadLog()
    err = InputError("routes.yaml", 7, "unsupported value 'Prefix'", "spec.rules[0].matches[0].path.type",
                     "HTTPRoute", "e2e", "api")
    assert log.errors([err]) == ([err], [])
    assert log.errors([err]) == ([], [])  # the next reload: not again
    moved = InputError("routes.yaml", 9, err.reason, err.field, err.kind, err.namespace, err.name)
    assert log.errors([moved]) == ([], [])  # lines added above it: the same problem
    other = InputError("routes.yaml", 9, "unsupported value 'Regex'", err.field, err.kind, err.namespace, err.name)
    assert log.errors([other]) == ([other], [moved])
    assert log.errors([]) == ([], [other])
