"""FileProvider.resync and the watcher's first wake-up: nothing written between the initial load
and the watcher being in place is lost.

resync re-reads the files that appeared, vanished, or changed size or mtime since they were last
read; watch() calls it on its first wake-up (a change, or the first 500 ms timeout).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from meshgate.providers.files import ChangeSet, FileProvider
from meshgate.resources.meta import ObjectKey
from meshgate.store import Store

SVC = """apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: ns}}
spec:
  ports: [{{name: http, port: {port}}}]
"""
FIRST = 5.0  # seconds allowed for the watcher's first change set (its first wake-up is at 0.5 s)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.yaml").write_text(SVC.format(name="one", port=80) + "---\n" + SVC.format(name="two", port=80))
    (tmp_path / "b.yaml").write_text(SVC.format(name="three", port=80))
    return tmp_path


def served(changes: ChangeSet) -> dict[str, int]:
    """Upserted Services by name, with their first port."""
    return {o.meta.name: o.ports[0].port for o in changes.upserts}


def svc(name: str) -> ObjectKey:
    return ObjectKey("Service", "ns", name)


# -- resync -------------------------------------------------------------------------------------
def test_resync_with_nothing_changed_gives_nothing(tree: Path) -> None:
    p = FileProvider([tree])
    assert served(p.load_all()) == {"one": 80, "two": 80, "three": 80}
    changes = p.resync()
    assert changes == ChangeSet() and not changes


def test_resync_picks_up_an_added_file(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "sub").mkdir()
    (tree / "sub" / "c.yaml").write_text(SVC.format(name="four", port=90))
    changes = p.resync()
    assert (served(changes), changes.deletes) == ({"four": 90}, [])
    assert not p.resync()  # read once, not again


def test_resync_picks_up_a_changed_file(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "a.yaml").write_text(SVC.format(name="one", port=8080) + "---\n" + SVC.format(name="two", port=80))
    changes = p.resync()
    assert (served(changes), changes.deletes) == ({"one": 8080}, [])
    assert not p.resync()


def test_resync_picks_up_a_deleted_file(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "b.yaml").unlink()
    changes = p.resync()
    assert (served(changes), changes.deletes) == ({}, [svc("three")])
    assert not p.resync()


def test_resync_picks_up_added_changed_and_deleted_files_together(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "c.yaml").write_text(SVC.format(name="four", port=90))
    (tree / "a.yaml").write_text(SVC.format(name="one", port=8080))  # "two" leaves the file
    (tree / "b.yaml").unlink()
    changes = p.resync()
    assert served(changes) == {"one": 8080, "four": 90}
    assert sorted(changes.deletes, key=lambda k: k.name) == [svc("three"), svc("two")]


def test_resync_sees_a_same_size_rewrite_by_its_mtime(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    path = tree / "b.yaml"
    before = path.stat()
    path.write_text(SVC.format(name="three", port=81))  # port 80 → 81: not a byte more or less
    # The write may land in the same timestamp tick as the first: set an mtime that surely differs.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    assert path.stat().st_size == before.st_size
    assert served(p.resync()) == {"three": 81}
    assert not p.resync()


def test_resync_of_a_touched_but_unchanged_file_changes_nothing_in_the_store(tree: Path) -> None:
    p = FileProvider([tree])
    store = Store()
    store.apply(p.load_all().upserts, [])
    before = (tree / "a.yaml").stat()
    os.utime(tree / "a.yaml", ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    # Re-read: its objects come back with a new creationTimestamp (it follows the file's mtime);
    # the provider keeps the first one, as the API server would, and so has nothing to say.
    changes = p.resync()
    assert (served(changes), changes.deletes) == ({}, [])
    assert store.apply(changes.upserts, changes.deletes) == set()
    assert not p.resync()


def test_resync_reads_only_what_the_initial_load_would(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "notes.txt").write_text(SVC.format(name="text", port=1))
    (tree / ".editor.yaml").write_text(SVC.format(name="dotfile", port=2))
    (tree / "..data").mkdir()
    (tree / "..data" / "hidden.yaml").write_text(SVC.format(name="hidden", port=3))
    (tree / "visible.yml").write_text(SVC.format(name="visible", port=4))
    assert served(p.resync()) == {"visible": 4}


def test_resync_reports_a_file_turned_invalid_and_keeps_its_objects(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "b.yaml").write_text(SVC.format(name="three", port=0))
    assert not p.resync()  # the last good version stays served
    assert [(Path(e.file).name, e.line, e.field) for e in p.errors] == [("b.yaml", 5, "spec.ports[0].port")]


# -- the watcher's first wake-up -----------------------------------------------------------------
def test_file_written_before_the_watcher_starts_is_not_lost(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    # After the initial load, before watch() runs: no file event will ever report this write.
    (tree / "c.yaml").write_text(SVC.format(name="four", port=90))

    async def body() -> None:
        changes = p.watch()
        try:
            first = await asyncio.wait_for(anext(changes), FIRST)
            assert (served(first), first.deletes) == ({"four": 90}, [])
            # Timeouts with nothing to report yield nothing (the next wake-up is 0.5 s away).
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(changes), 1.2)
        finally:
            await changes.aclose()

    asyncio.run(body())


def test_changes_and_deletions_before_the_watcher_starts_come_in_its_first_change_set(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "a.yaml").write_text(SVC.format(name="one", port=8080) + "---\n" + SVC.format(name="two", port=80))
    (tree / "b.yaml").unlink()

    async def body() -> None:
        changes = p.watch()
        try:
            first = await asyncio.wait_for(anext(changes), FIRST)
            assert (served(first), first.deletes) == ({"one": 8080}, [svc("three")])
            # The watcher is in place by now: a later write comes as a change of its own.
            (tree / "d.yaml").write_text(SVC.format(name="five", port=95))
            later = await asyncio.wait_for(anext(changes), FIRST)
            assert (served(later), later.deletes) == ({"five": 95}, [])
        finally:
            await changes.aclose()

    asyncio.run(body())
