"""Strict input: the structural walk that finds unknown fields, the schemas it walks, and the
misspelt-kind rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshgate.pipeline import translate_paths
from meshgate.resources.fields import ObjectContext
from meshgate.resources.kinds import KINDS
from meshgate.resources.loader import load_text
from meshgate.resources.schemas import Schemas, schemas
from meshgate.resources.strict import report_unknown_fields, unknown_fields
from meshgate.resources.yaml_source import iter_documents

from .support import CREATED, errors_of

REPO = Path(__file__).resolve().parents[2]


def _schemas(**kinds) -> Schemas:
    meta = {"type": "object", "properties": {"name": {"type": "string"}}}
    return Schemas(kinds, {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": meta}, frozenset())


def _unknown(doc: str, schema: dict) -> list[tuple[str, int, str]]:
    s = _schemas(**{"x/v1/X": schema})
    (value,) = iter_documents(doc)
    return [(u.path, u.line, u.reason) for u in unknown_fields(value.value, s.kind("x", "v1", "X"), s, 1)]


MAP_OF_OBJECTS = {"type": "object", "properties": {
    "spec": {"type": "object", "properties": {
        "byName": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"port": {"type": "integer"}}}},
        "list": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "properties": {"known": {"type": "object", "properties": {"b": {"type": "string"}}}}},
        "opaque": {"type": "object"},
        "scalar": {"type": "string"},
    }}}}


def test_maps_lists_preserved_and_opaque_fields() -> None:
    doc = """\
apiVersion: x/v1
kind: X
metadata:
  name: n
  nam: typo
spec:
  byName:
    anything:
      port: 1
      prot: 2
  list:
  - a: x
  - b: y
  free:
    whatever: 1
    known:
      c: 1
  opaque:
    any: {thing: 1}
  scalar: {not: a string}
"""
    assert _unknown(doc, MAP_OF_OBJECTS) == [
        ("metadata.nam", 5, "unknown field: did you mean name?"),
        ("spec.byName.anything.prot", 10, "unknown field: did you mean port?"),
        ("spec.list[1].b", 13, "unknown field"),
        ("spec.free.known.c", 17, "unknown field"),
    ]


def test_every_kind_and_version_meshgate_reads_has_its_upstream_schema() -> None:
    """Else strict checking would be off, silently, for that kind: regenerate the schemas."""
    missing = [f"{s.group}/{v}/{s.kind}" for s in KINDS.values() for v in s.versions
               if schemas().kind(s.group, v, s.kind) is None]
    assert missing == []


def test_a_value_of_the_wrong_type_is_left_to_the_parser() -> None:
    """The walk does not enter a value of the wrong type (the parser reports it, once)."""
    result = load_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: [a]\n"
                       "spec:\n  ports: [{port: 80, nmae: x}]\n", "t.yaml", CREATED)
    assert [(e.line, e.field) for e in errors_of(result)] == [(5, "metadata.labels"), (7, "spec.ports[0].nmae")]


def test_a_field_the_parser_already_reported_is_not_reported_again() -> None:
    s = _schemas(**{"x/v1/X": MAP_OF_OBJECTS})
    (doc,) = iter_documents("apiVersion: x/v1\nkind: X\nspec:\n  bogus: 1\n  other: 2\n")
    ctx = ObjectContext("t.yaml", 1)
    ctx.error(4, "spec.bogus", "not allowed here")
    report_unknown_fields(doc.value, MAP_OF_OBJECTS, s, ctx, 1)
    assert [(e.line, e.field, e.reason) for e in ctx.errors] == [
        (4, "spec.bogus", "not allowed here"), (5, "spec.other", "unknown field")]


def _inputs() -> list[Path]:
    """Every resource input in the repository that is meant to be valid Kubernetes input:
    the examples, the golden cases' inputs and the upstream conformance manifests."""
    files = sorted((REPO / "examples").rglob("*.yaml"))
    for d in ("tests/golden/cases", "tests/golden/hints", "tests/golden/conformance/_base", "tests/conformance/manifests"):
        files += sorted(p for p in (REPO / d).rglob("*.yaml")
                        if p.name not in ("expected.yaml", "proxies.yaml", "flags.yaml"))
    return files


def test_the_inputs_are_all_there() -> None:
    assert len(_inputs()) >= 100


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_upstream_or_golden_input_has_an_unknown_field_or_a_misspelt_kind(path: Path) -> None:
    """The upstream manifests are valid, and so are ours: strict checking refuses none of them,
    and every object of a kind meshgate reads was checked against its upstream schema."""
    text = path.read_text(encoding="utf-8").replace("{GATEWAY_CLASS_NAME}", "meshgate").replace(
        "{GATEWAY_CONTROLLER_NAME}", "meshgate.io/gateway-controller")
    result = load_text(text, str(path), CREATED)
    strict = [str(e) for e in result.errors if "unknown field" in e.reason or "did you mean" in e.reason]
    assert strict == []
    for obj in [*result.objects, *result.rejected]:
        spec = next(s for s in KINDS.values() if s.kind == obj.kind)
        assert any(schemas().kind(spec.group, v, obj.kind) for v in spec.versions)


def test_quickstart_typos_fail_translate() -> None:
    """The issue's two typos, through the whole pipeline: an error each, naming the field."""
    routes = (REPO / "examples/quickstart/routes.yaml").read_text(encoding="utf-8")
    for typo, field in (("backendRefs:", "backendRef"), ("parentRefs:", "parentRef")):
        text = routes.replace(typo, typo.replace("Refs", "Ref"), 1)
        result = load_text(text, "routes.yaml", CREATED)
        assert any(e.field.endswith(f".{field}") and f"did you mean {field}s?" in e.reason for e in errors_of(result))
        assert "api" not in {o.meta.name for o in result.objects}


def test_the_quickstart_is_strictly_valid() -> None:
    tr = translate_paths([REPO / "examples/quickstart"], now=CREATED, created=CREATED)
    assert not tr.failed
