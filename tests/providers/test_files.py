"""The file provider: change sets from file edits, last good versions, duplicates, deletions."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshgate.providers.files import FileProvider
from meshgate.resources.meta import ObjectKey
from meshgate.store import Store

SVC = """apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: ns}}
spec:
  ports: [{{name: http, port: {port}}}]
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.yaml").write_text(SVC.format(name="one", port=80) + "---\n" + SVC.format(name="two", port=80))
    (tmp_path / "b.yaml").write_text(SVC.format(name="three", port=80))
    return tmp_path


def keys(objs) -> set[str]:  # noqa: ANN001
    return {o.meta.name for o in objs}


def test_initial_load_and_unchanged_reload(tree: Path) -> None:
    p = FileProvider([tree])
    assert keys(p.load_all().upserts) == {"one", "two", "three"}
    assert not p.reload(tree / "a.yaml")  # nothing changed


def test_edit_gives_only_what_changed(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "a.yaml").write_text(SVC.format(name="one", port=81) + "---\n" + SVC.format(name="two", port=80))
    changes = p.reload(tree / "a.yaml")
    assert keys(changes.upserts) == {"one"} and not changes.deletes


def test_object_removed_from_a_clean_file_is_deleted(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "a.yaml").write_text(SVC.format(name="one", port=80))
    changes = p.reload(tree / "a.yaml")
    assert changes.deletes == [ObjectKey("Service", "ns", "two")] and not changes.upserts


def test_file_turning_invalid_keeps_the_last_good_objects(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    # One object becomes invalid, the other document is unreadable YAML.
    (tree / "a.yaml").write_text(SVC.format(name="one", port=0) + "---\nkind: [unclosed\n")
    changes = p.reload(tree / "a.yaml")
    assert not changes, "nothing served may be lost"
    errors = {(Path(e.file).name, e.line, e.field) for e in p.errors}
    assert ("a.yaml", 5, "spec.ports[0].port") in errors
    assert any(Path(e.file).name == "a.yaml" and "invalid YAML" in e.reason for e in p.errors)
    assert [r.meta.name for r in p.rejected] == ["one"]
    # Fixed again: the errors go, and the fixed file's content is what counts.
    (tree / "a.yaml").write_text(SVC.format(name="one", port=82))
    changes = p.reload(tree / "a.yaml")
    assert keys(changes.upserts) == {"one"} and changes.deletes == [ObjectKey("Service", "ns", "two")]
    assert not p.errors and not p.rejected


def test_deleted_file_removes_its_objects(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "b.yaml").unlink()
    assert p.reload(tree / "b.yaml").deletes == [ObjectKey("Service", "ns", "three")]


def test_duplicate_in_another_file_is_refused_and_the_first_kept(tree: Path) -> None:
    p = FileProvider([tree])
    p.load_all()
    (tree / "c.yaml").write_text(SVC.format(name="one", port=99))
    changes = p.reload(tree / "c.yaml")
    assert not changes
    (err,) = [e for e in p.errors if Path(e.file).name == "c.yaml"]
    assert "duplicate Service" in err.reason and "a.yaml:1" in err.reason
    # Once the first file lets go of it, the other file's version is taken on its next reload.
    (tree / "a.yaml").write_text(SVC.format(name="two", port=80))
    assert ObjectKey("Service", "ns", "one") in p.reload(tree / "a.yaml").deletes
    changes = p.reload(tree / "c.yaml")
    assert [(o.meta.name, o.ports[0].port) for o in changes.upserts] == [("one", 99)]


def test_store_apply_bumps_generation_on_spec_change_only(tree: Path) -> None:
    p = FileProvider([tree])
    store = Store()
    store.apply(p.load_all().upserts, [])
    one = store.get("Service", "ns", "one")
    assert one.meta.generation == 1
    # A label change: same generation; a spec change: generation + 1; uid and age kept.
    (tree / "a.yaml").write_text(SVC.format(name="one", port=80).replace("namespace: ns}", "namespace: ns, labels: {a: b}}")
                                 + "---\n" + SVC.format(name="two", port=80))
    changed = store.apply(p.reload(tree / "a.yaml").upserts, [])
    assert changed == {ObjectKey("Service", "ns", "one")}
    relabeled = store.get("Service", "ns", "one")
    assert relabeled.meta.generation == 1 and relabeled.meta.labels == {"a": "b"}
    (tree / "a.yaml").write_text(SVC.format(name="one", port=81) + "---\n" + SVC.format(name="two", port=80))
    store.apply(p.reload(tree / "a.yaml").upserts, [])
    edited = store.get("Service", "ns", "one")
    assert edited.meta.generation == 2
    assert (edited.meta.uid, edited.meta.creation_timestamp) == (one.meta.uid, one.meta.creation_timestamp)
    # Applying the same object again changes nothing.
    assert store.apply([edited], []) == set()
