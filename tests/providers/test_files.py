"""The file provider: change sets from file edits, last good versions, duplicates, deletions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.providers.files import FileProvider
from meshgate.resources.loader import find_files, is_resource_file, load_paths
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


def keys(objs) -> set[str]:
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
    # Once the first file lets go of it, the other file's version is taken in the same change.
    (tree / "a.yaml").write_text(SVC.format(name="two", port=80))
    changes = p.reload(tree / "a.yaml")
    served = {o.meta.name: (Path(o.source.file).name, o.ports[0].port) for o in changes.upserts}
    assert served["one"] == ("c.yaml", 99) and not changes.deletes
    assert not p.errors


def test_provider_bumps_generation_on_spec_change_only(tree: Path) -> None:
    # The provider fills in what the API server would; the store stores what it is given.
    p = FileProvider([tree])
    store = Store()
    store.apply(p.load_all().upserts, [])
    one = store.get("Service", "ns", "one")
    assert one.meta.generation == 1
    # A label change: same generation; a spec change: generation + 1; uid and age kept.
    (tree / "a.yaml").write_text(SVC.format(name="one", port=80).replace("namespace: ns}", "namespace: ns, labels: {a: b}}")
                                 + "---\n" + SVC.format(name="two", port=80))
    changes = p.reload(tree / "a.yaml")
    (relabeled,) = changes.upserts
    assert relabeled.meta.generation == 1 and relabeled.meta.labels == {"a": "b"}
    assert store.apply(changes.upserts, changes.deletes) == {ObjectKey("Service", "ns", "one")}
    (tree / "a.yaml").write_text(SVC.format(name="one", port=81) + "---\n" + SVC.format(name="two", port=80))
    (edited,) = p.reload(tree / "a.yaml").upserts
    assert edited.meta.generation == 2
    assert (edited.meta.uid, edited.meta.creation_timestamp) == (one.meta.uid, one.meta.creation_timestamp)
    store.apply([edited], [])
    assert store.get("Service", "ns", "one") is edited
    # Applying the same object again changes nothing.
    assert store.apply([edited], []) == set()


def test_a_new_copy_taking_over_continues_the_served_generation(tree: Path) -> None:
    # Deleting the first of two copies is an update of the object, as the API server would see
    # it (one object, edited): generation, uid and age follow the version served before.
    p = FileProvider([tree])
    (served,) = [o for o in p.load_all().upserts if o.meta.name == "three"]
    (tree / "c.yaml").write_text("# a copy, with another port\n" + SVC.format(name="three", port=99))
    assert not p.reload(tree / "c.yaml")  # a duplicate: b.yaml's stays
    (tree / "b.yaml").unlink()
    changes = p.reload(tree / "b.yaml")
    (taken,) = changes.upserts
    assert (Path(taken.source.file).name, taken.source.line, taken.ports[0].port) == ("c.yaml", 2, 99)
    assert (taken.meta.generation, taken.meta.uid, taken.meta.creation_timestamp) == (
        2, served.meta.uid, served.meta.creation_timestamp)
    # Deleted and created again: a new object, generation 1.
    (tree / "c.yaml").unlink()
    assert p.reload(tree / "c.yaml").deletes == [ObjectKey("Service", "ns", "three")]
    (tree / "c.yaml").write_text(SVC.format(name="three", port=98))
    (again,) = p.reload(tree / "c.yaml").upserts
    assert again.meta.generation == 1


def test_duplicate_within_one_file_is_refused_and_the_first_kept(tree: Path) -> None:
    # As `meshgate translate` (Store.from_load) does: the first wins, the second is reported.
    (tree / "c.yaml").write_text(SVC.format(name="four", port=80) + "---\n" + SVC.format(name="four", port=99))
    p = FileProvider([tree])
    served = [o for o in p.load_all().upserts if o.meta.name == "four"]
    assert [o.ports[0].port for o in served] == [80]
    (err,) = [e for e in p.errors if Path(e.file).name == "c.yaml"]
    assert (err.line, err.field, err.name) == (7, "metadata.name", "four")
    assert err.reason == f"duplicate Service: already defined at {err.file}:1; this one is ignored"
    # Translate reports the same error for the same file.
    _, translate_errors = Store.from_load(load_paths([Path(err.file)]))
    assert translate_errors == [err]
    # An unchanged reload neither flips to the second nor loses the error.
    assert not p.reload(tree / "c.yaml")
    assert [e.line for e in p.errors if Path(e.file).name == "c.yaml"] == [7]


def test_watcher_ignores_dot_directories_like_the_initial_load(tree: Path) -> None:
    # e.g. a Kubernetes ConfigMap mount's `..data` directory, or an editor's.
    (tree / "..data").mkdir()
    (tree / "sub").mkdir()
    p = FileProvider([tree])
    p.load_all()
    seen: list[str] = []

    async def collect() -> None:
        async for changes in p.watch():
            seen.extend(o.meta.name for o in changes.upserts)
            if "visible" in seen:
                return

    async def edit_until_seen() -> None:
        task = asyncio.create_task(collect())
        # Each round writes the dot files before the visible one: once the watcher reports the
        # visible one, it was running when the dot files changed (however long it took to start).
        for port in range(1, 100):
            (tree / "..data" / "hidden.yaml").write_text(SVC.format(name="hidden", port=port))
            (tree / ".editor.yaml").write_text(SVC.format(name="dotfile", port=port))
            (tree / "sub" / "visible.yaml").write_text(SVC.format(name="visible", port=port))
            done, _ = await asyncio.wait([task], timeout=0.2)
            if done:
                return
        task.cancel()

    asyncio.run(edit_until_seen())
    assert seen == ["visible"]
    assert "hidden" not in keys(FileProvider([tree]).load_all().upserts)  # as at start-up


def test_is_resource_file_matches_the_initial_scan(tree: Path) -> None:
    (tree / "..data").mkdir()
    (tree / "sub").mkdir()
    for name in ["..data/x.yaml", ".x.yaml", "sub/x.json", "sub/x.txt", "x.yml"]:
        (tree / name).write_text("")
    found, _ = find_files([tree])
    for path in tree.rglob("*"):
        assert is_resource_file(path, tree) == (path in found), path
    # However the watcher spells it, and a file named on its own always counts.
    assert is_resource_file(f"{tree}/./sub/../x.yml", f"{tree}/.")
    assert is_resource_file(tree / "sub" / "x.txt", tree / "sub" / "x.txt")
    assert not is_resource_file(tree / "x.yml", tree / "sub")
