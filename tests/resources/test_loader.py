"""loader: files and directories, unreadable input, empty input, List unpacking, recovery."""

from __future__ import annotations

import os
from pathlib import Path

from meshgate.resources.loader import find_files, load_file, load_paths, rfc3339

from .support import CREATED, errors_of, ident

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_nonexistent_path_is_an_error_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path / "ok.yaml", NS.format("good"))
    missing = tmp_path / "nope"
    result = load_paths([missing, tmp_path], created=CREATED)
    assert [(e.file, e.line, e.reason, e.severity) for e in result.errors] == [
        (str(missing), 0, "no such file or directory", "error")
    ]
    assert [ident(o) for o in result.objects] == ["Namespace good"]


def test_non_utf8_file_is_an_error_and_the_rest_loads(tmp_path: Path) -> None:
    bad = write(tmp_path / "a-latin1.yaml", (NS.format("caf") + "  annotations: {note: caf\xe9}\n").encode("latin-1"))
    write(tmp_path / "b.yaml", NS.format("good"))
    result = load_paths([tmp_path], created=CREATED)
    (e,) = result.errors
    assert (e.file, e.line, e.severity) == (str(bad), 1, "error")
    assert e.reason.startswith("not UTF-8 text:")
    assert f"at byte {(NS.format('caf') + '  annotations: {note: caf').encode().__len__()}" in e.reason
    assert [ident(o) for o in result.objects] == ["Namespace good"]


def test_empty_file(tmp_path: Path) -> None:
    result = load_file(write(tmp_path / "empty.yaml", ""), CREATED)
    assert (result.objects, result.errors, result.rejected) == ([], [], [])


def test_empty_documents_and_comments(tmp_path: Path) -> None:
    for name, text in [("dashes.yaml", "---\n---\n...\n"), ("comments.yaml", "# nothing here\n---\n# still nothing\n"),
                       ("null.yaml", "---\nnull\n---\n~\n")]:
        result = load_file(write(tmp_path / name, text), CREATED)
        assert (result.objects, result.errors) == ([], []), name


def test_empty_documents_between_objects(load) -> None:
    result = load("---\n---\n" + NS.format("a") + "---\n\n---\n" + NS.format("b") + "---\n")
    assert result.errors == []
    assert [ident(o) for o in result.objects] == ["Namespace a", "Namespace b"]
    assert [o.source.line for o in result.objects] == [3, 10]


def test_find_files_suffixes_hidden_and_order(tmp_path: Path) -> None:
    for rel in ["b.yaml", "a.yml", "sub/c.json", "sub/deeper/d.yaml", "notes.txt", "x.yaml.bak",
                ".hidden.yaml", ".git/e.yaml", "sub/.cache/f.yaml"]:
        write(tmp_path / rel, "")
    files, errors = find_files([tmp_path])
    assert errors == []
    assert [str(f.relative_to(tmp_path)) for f in files] == ["a.yml", "b.yaml", "sub/c.json", "sub/deeper/d.yaml"]


def test_a_file_path_is_loaded_whatever_its_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "objects.txt", NS.format("good"))
    result = load_paths([path], created=CREATED)
    assert [ident(o) for o in result.objects] == ["Namespace good"]


def test_every_object_remembers_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "two.yaml", "# header\n" + NS.format("a") + "---\n" + NS.format("b"))
    result = load_paths([tmp_path], created=CREATED)
    assert [(o.source.file, o.source.line) for o in result.objects] == [(str(path), 2), (str(path), 7)]


def test_created_defaults_to_the_file_mtime(tmp_path: Path) -> None:
    path = write(tmp_path / "ns.yaml", NS.format("a"))
    os.utime(path, (1_700_000_000, 1_700_000_000))
    (obj,) = load_paths([tmp_path]).objects
    assert obj.meta.creation_timestamp == "2023-11-14T22:13:20Z" == rfc3339(1_700_000_000)
    (obj,) = load_paths([tmp_path], created=CREATED).objects
    assert obj.meta.creation_timestamp == CREATED


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    from meshgate.resources.loader import InputLimits

    path = write(tmp_path / "big.yaml", NS.format("a"))
    (e,) = load_file(path, CREATED, InputLimits(max_file_bytes=10)).errors
    assert (e.file, e.line) == (str(path), 0)
    assert "larger than 10 bytes" in e.reason


def test_list_kinds_are_unpacked(load) -> None:
    text = (
        "apiVersion: v1\nkind: ServiceList\nitems:\n"
        "- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n"
        "- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n"
        "---\napiVersion: v1\nkind: List\nitems: []\n"
        "---\napiVersion: v1\nkind: List\n"
    )
    result = load(text)
    assert result.errors == []
    assert [(ident(o), o.source.line) for o in result.objects] == [("Service default/a", 4), ("Service default/b", 7)]


def test_a_kind_ending_in_list_without_items_is_an_ordinary_kind(load) -> None:
    result = load("apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: x}\n")
    assert [(e.severity, e.reason) for e in result.errors] == [("warning", "unknown kind AllowList in example.com/v1: skipped")]


def test_a_broken_document_costs_only_itself(load) -> None:
    text = NS.format("a") + "---\nkind: [\n---\n" + NS.format("b")
    result = load(text)
    assert [(e.line, e.reason) for e in errors_of(result)] == [(7, "invalid YAML: did not find expected node content")]
    assert [ident(o) for o in result.objects] == ["Namespace a", "Namespace b"]
    assert result.objects[1].source.line == 8


def test_rejected_objects_keep_identity_and_errors(load) -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ports: [{port: 0}]\n"
    result = load(text, "svc.yaml")
    assert result.objects == []
    (r,) = result.rejected
    assert (r.kind, r.meta.namespace, r.meta.name, r.source.file, r.source.line) == ("Service", "shop", "web", "svc.yaml", 1)
    assert [e.field for e in r.errors] == ["spec.ports[0].port"]
    assert r.raw["metadata"]["name"] == "web"
    assert result.failed


def test_warnings_alone_do_not_fail_a_load(load) -> None:
    result = load("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    assert result.errors and not result.failed


def test_error_messages(load) -> None:
    result = load("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 0}]\n", "s.yaml")
    (e,) = result.errors
    assert str(e) == "s.yaml:6: Service default/web spec.ports[0].port: must be between 1 and 65535, got 0"
    assert e.to_dict() == {
        "severity": "error", "file": "s.yaml", "line": 6, "kind": "Service", "namespace": "default", "name": "web",
        "field": "spec.ports[0].port", "reason": "must be between 1 and 65535, got 0", "message": str(e),
    }
