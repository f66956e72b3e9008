"""Incremental equals full on the golden cases: from each case's objects, every object in turn
is deleted and put back, and after each change the control plane that applied it serves the
bytes a control plane loading the same objects from scratch serves. The golden cases hold what
the random scenario does not (waypoints and the ingress gateways that send through them, TLS,
ServiceEntries of every resolution, rejected objects), so each dependency they exercise is
checked for being followed by the incremental path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from meshgate.providers.changes import ChangeSet
from meshgate.resources.errors import InputError
from meshgate.resources.meta import ObjectKey
from meshgate.runtime.controller import ControlPlane
from meshgate.xds.cache import SnapshotCache

from ..golden.harness import GoldenCase, load_case, own_cases

CLOCK = "2026-01-02T00:00:00Z"
CASES = own_cases()


class _Objects:
    """A provider over a fixed list of objects (the Provider protocol, no files)."""

    def __init__(self, objects: list) -> None:
        self.objects = objects
        self.errors: list[InputError] = []
        self.rejected: list = []

    def load_all(self) -> ChangeSet:
        return ChangeSet(upserts=list(self.objects))

    async def watch(self) -> AsyncIterator[ChangeSet]:
        return
        yield ChangeSet()


def _served(cp: ControlPlane) -> dict:
    return {key: {t: {n: r.body.value for n, r in res.items()} for t, res in cp.cache.entry(key).resources.items()}
            for key in cp.cache.gateways()}


def _fresh(objects: list) -> ControlPlane:
    cp = ControlPlane(_Objects(objects), SnapshotCache(), clock=lambda: CLOCK)
    cp.load()
    return cp


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_deleting_and_restoring_each_object_equals_a_fresh_load(case: GoldenCase) -> None:
    _, loaded, _ = load_case(case)
    objects = loaded.objects
    assert objects
    incremental = _fresh(objects)
    for i, obj in enumerate(objects):
        key = ObjectKey.of(obj)
        rest = objects[:i] + objects[i + 1:]
        incremental.apply(ChangeSet(deletes=[key]))
        assert _served(incremental) == _served(_fresh(rest)), f"{case.name}: without {key}"
        incremental.apply(ChangeSet(upserts=[obj]))
        assert _served(incremental) == _served(_fresh(objects)), f"{case.name}: {key} back"
