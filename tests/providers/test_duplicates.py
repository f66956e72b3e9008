"""Renames, moves and duplicate definitions: what the provider serves never depends on the
order in which changes arrive, and always equals a fresh load of the same tree (but for the
generation, uid and creationTimestamp, which follow each object's history as the API server's do).

For each object the first definition in the initial scan's order wins (files of a directory by
name, then its subdirectories by name; then the first in the file); the others are duplicates
naming it, and they are re-admitted when the winner goes.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from watchfiles import Change

from meshgate.providers.files import ChangeSet, FileProvider
from meshgate.resources.meta import ObjectKey

SVC = """apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: ns}}
spec:
  ports: [{{name: http, port: {port}}}]
"""


def services(*pairs: tuple[str, int]) -> str:
    return "---\n".join(SVC.format(name=n, port=p) for n, p in pairs)


def apply(served: dict[ObjectKey, Any], changes: ChangeSet) -> None:
    """What the store does with a change set."""
    for key in changes.deletes:
        served.pop(key, None)
    for obj in changes.upserts:
        served[ObjectKey.of(obj)] = obj


def where(served: dict[ObjectKey, Any]) -> dict[str, tuple[str, int, int]]:
    """Service name → (file name, line, port) of the version served."""
    return {k.name: (Path(o.source.file).name, o.source.line, o.ports[0].port) for k, o in served.items()}


def without_history(obj: Any) -> Any:
    """`obj` without what the provider fills in from the versions served before it (generation,
    uid, creationTimestamp), which a fresh load cannot know."""
    return dataclasses.replace(obj, meta=dataclasses.replace(obj.meta, generation=1, uid="", creation_timestamp=""))


def assert_as_fresh(p: FileProvider, served: dict[ObjectKey, Any], root: Path) -> None:
    """The incremental result is what a fresh load of the same tree gives (but for what the API
    server would fill in), and every error names files that exist."""
    fresh = FileProvider([root])
    assert {k: without_history(o) for k, o in served.items()} == {
        ObjectKey.of(o): without_history(o) for o in fresh.load_all().upserts}
    assert p.errors == fresh.errors
    for e in p.errors:
        assert os.path.exists(e.file), e
        if "already defined at " in e.reason:
            assert os.path.exists(e.reason.split("already defined at ")[1].rsplit(":", 1)[0]), e


def test_rename_to_an_earlier_name_swaps_the_source_in_one_change(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(services(("one", 80), ("two", 80)))
    p = FileProvider([tmp_path])
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    os.rename(tmp_path / "routes.yaml", tmp_path / "00-routes.yaml")
    # As the watcher used to apply it: file by file in name order, the new name first.
    for name in ("00-routes.yaml", "routes.yaml"):
        changes = p.reload(tmp_path / name)
        assert not changes.deletes, f"{name}: {changes.deletes}"
        apply(served, changes)
    assert where(served) == {"one": ("00-routes.yaml", 1, 80), "two": ("00-routes.yaml", 7, 80)}
    assert p.errors == []
    assert_as_fresh(p, served, tmp_path)


def test_the_order_of_reloads_does_not_matter(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(services(("one", 1)))
    p = FileProvider([tmp_path])
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    (tmp_path / "a.yaml").write_text(services(("one", 2)))
    (tmp_path / "c.yaml").write_text(services(("one", 3)))
    for name in ("c.yaml", "a.yaml"):  # the later file first
        apply(served, p.reload(tmp_path / name))
    assert where(served) == {"one": ("a.yaml", 1, 2)}
    assert [(Path(e.file).name, e.reason) for e in p.errors] == [
        ("b.yaml", f"duplicate Service: already defined at {tmp_path / 'a.yaml'}:1; this one is ignored"),
        ("c.yaml", f"duplicate Service: already defined at {tmp_path / 'a.yaml'}:1; this one is ignored"),
    ]
    assert_as_fresh(p, served, tmp_path)


def test_deleting_the_first_of_two_copies_re_admits_the_second(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))
    (tmp_path / "b.yaml").write_text(services(("one", 2)))
    p = FileProvider([tmp_path])
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    assert where(served) == {"one": ("a.yaml", 1, 1)}
    assert [Path(e.file).name for e in p.errors] == ["b.yaml"]
    (tmp_path / "a.yaml").unlink()
    changes = p.reload(tmp_path / "a.yaml")
    assert not changes.deletes
    apply(served, changes)
    assert where(served) == {"one": ("b.yaml", 1, 2)}
    assert p.errors == []  # nothing names the deleted file


def test_a_file_moved_into_a_new_directory_is_found_from_its_deletion_alone(tmp_path: Path) -> None:
    # The watcher may not be watching a directory created a moment before a file is moved into
    # it: it reports only the deletion. That is enough.
    (tmp_path / "routes.yaml").write_text(services(("one", 80)))
    p = FileProvider([tmp_path])
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    (tmp_path / "new").mkdir()
    os.rename(tmp_path / "routes.yaml", tmp_path / "new" / "routes.yaml")
    changes = p.apply_events([(Change.deleted, str(tmp_path / "routes.yaml"))])
    assert not changes.deletes
    apply(served, changes)
    assert where(served) == {"one": ("routes.yaml", 1, 80)}
    assert next(iter(served.values())).source.file == str(tmp_path / "new" / "routes.yaml")
    assert_as_fresh(p, served, tmp_path)


def test_files_of_a_directory_come_before_its_subdirectories(tmp_path: Path) -> None:
    # As the initial scan reads them (and `meshgate translate` keeps the first).
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.yaml").write_text(services(("one", 1)))
    (tmp_path / "b.yaml").write_text(services(("one", 2)))
    p = FileProvider([tmp_path])
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    assert where(served) == {"one": ("b.yaml", 1, 2)}
    (tmp_path / "b.yaml").unlink()
    apply(served, p.reload(tmp_path / "b.yaml"))
    (tmp_path / "b.yaml").write_text(services(("one", 3)))
    apply(served, p.reload(tmp_path / "b.yaml"))
    assert where(served) == {"one": ("b.yaml", 1, 3)}
    assert_as_fresh(p, served, tmp_path)


def test_an_invalid_winner_keeps_its_last_good_version_and_its_place(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))
    (tmp_path / "b.yaml").write_text(services(("one", 2)))
    p = FileProvider([tmp_path])
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    (tmp_path / "a.yaml").write_text(services(("one", 0)))  # port 0: invalid
    assert not p.reload(tmp_path / "a.yaml")
    assert where(served) == {"one": ("a.yaml", 1, 1)}
    assert sorted(Path(e.file).name for e in p.errors) == ["a.yaml", "b.yaml"]
    # Fixed by removing the object: the next definition is admitted.
    (tmp_path / "a.yaml").write_text("")
    apply(served, p.reload(tmp_path / "a.yaml"))
    assert where(served) == {"one": ("b.yaml", 1, 2)}
    assert p.errors == []


# -- the property -------------------------------------------------------------------------------
NAMES = ["a.yaml", "b.yaml", "00.yaml", "sub/c.yaml", "sub/a.yaml", "z/y/x.yaml"]
NEW_DIRS = ["new1", "new2/deeper"]
content = st.lists(st.tuples(st.sampled_from(["s1", "s2", "s3"]), st.integers(1, 3)), max_size=3)
operation = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), content),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("move-into-new-dir"), st.sampled_from(NAMES), st.sampled_from(NEW_DIRS)),
    st.tuples(st.just("delete"), st.sampled_from(NAMES)),
    st.tuples(st.just("copy"), st.sampled_from(NAMES), st.sampled_from(NAMES)),  # a duplicate definition
)


def _run(root: Path, op: tuple, seen: list[tuple[Change, str]]) -> None:
    """Do `op` on the tree; the events a watcher reports for it go into `seen`."""
    kind, src = op[0], root / op[1]
    if kind == "write":
        src.parent.mkdir(parents=True, exist_ok=True)
        existed = src.exists()
        src.write_text(services(*op[2]))
        seen.append((Change.modified if existed else Change.added, str(src)))
    elif kind == "delete" and src.exists():
        src.unlink()
        seen.append((Change.deleted, str(src)))
    elif kind in ("rename", "copy") and src.exists() and op[1] != op[2]:
        dst = root / op[2]
        dst.parent.mkdir(parents=True, exist_ok=True)
        if kind == "rename":
            os.rename(src, dst)
            seen += [(Change.deleted, str(src)), (Change.added, str(dst))]
        else:
            dst.write_bytes(src.read_bytes())
            seen.append((Change.added, str(dst)))
    elif kind == "move-into-new-dir" and src.exists():
        new = root / op[2]
        new.mkdir(parents=True, exist_ok=True)
        os.rename(src, new / src.name)
        # The watcher saw the directory appear, not the file moved into it a moment later.
        seen += [(Change.deleted, str(src)), (Change.added, str(new))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.lists(st.tuples(st.sampled_from(NAMES), content), max_size=4),
       steps=st.lists(st.tuples(operation, st.booleans()), min_size=1, max_size=12))
def test_incremental_equals_a_fresh_load(initial: list, steps: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, objs in initial:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(services(*objs))
        p = FileProvider([root])
        served: dict[ObjectKey, Any] = {}
        apply(served, p.load_all())
        batch: list[tuple[Change, str]] = []
        for op, end_of_batch in steps:
            _run(root, op, batch)
            if end_of_batch:  # the watcher's batches end anywhere
                apply(served, p.apply_events(batch))
                batch = []
                assert_as_fresh(p, served, root)
        apply(served, p.apply_events(batch))
        assert_as_fresh(p, served, root)
