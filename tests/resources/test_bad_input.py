"""The bad-input corpus: every file in bad_input/ declares what loading it must report.

Each case file holds one or more bad objects and at least one good one, and states its
expectations in its leading comment lines (a .json case, which cannot hold comments, in a
sidecar `<name>.json.expect`):

    # expect-error: 12 spec.listeners[0].port: must be between 1 and 65535
    # expect-error: 3: invalid YAML            (no field path: a problem with the document)
    # expect-warning: 7 metadata.namespace: is cluster-scoped
    # expect-loaded: Gateway default/good     (`Kind name` for a cluster-scoped kind)

Errors and warnings must match exactly (line, field path, and a substring of the reason), the
objects that load must be exactly the expect-loaded ones, and every object in the file that did
not load must be accounted for by an error or warning within its lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from meshgate.resources.errors import InputError
from meshgate.resources.loader import LoadResult, load_text

from .support import CREATED, errors_of, ident, warnings_of

CORPUS = Path(__file__).parent / "bad_input"
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))

_DIRECTIVE = re.compile(r"#\s*expect-(?P<what>[a-z]+):\s*(?P<rest>.*?)\s*$")
_PROBLEM = re.compile(r"(?P<line>\d+)(?:\s+(?P<field>[^\s:]+))?:\s+(?P<reason>\S.*)")
_KINDS = {"error", "warning", "loaded"}


@dataclass(frozen=True)
class Expected:
    """One expected error or warning."""

    line: int
    field: str
    reason: str

    def matches(self, e: InputError) -> bool:
        return e.line == self.line and e.field == self.field and self.reason in e.reason

    def __str__(self) -> str:
        return f"{self.line} {self.field}: {self.reason}" if self.field else f"{self.line}: {self.reason}"


@dataclass
class Expectations:
    errors: list[Expected] = field(default_factory=list)
    warnings: list[Expected] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)


def read_expectations(case: Path) -> Expectations:
    """The expectations a case declares (leading comments, or the .expect sidecar of a .json)."""
    if case.suffix == ".json":
        lines = case.with_name(case.name + ".expect").read_text(encoding="utf-8").splitlines()
    else:
        lines = case.read_text(encoding="utf-8").splitlines()
    exp = Expectations()
    in_header = True
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if in_header and stripped and not stripped.startswith("#"):
            in_header = False
        m = _DIRECTIVE.match(stripped)
        if m is None:
            if in_header and stripped.startswith("#"):
                assert not re.match(r"#\s*expect", stripped), f"{case.name}:{number}: malformed directive {text!r}"
                exp.description.append(stripped.lstrip("# "))
            continue
        assert in_header, f"{case.name}:{number}: expectation outside the leading comments is ignored: {text!r}"
        what, rest = m["what"], m["rest"]
        assert what in _KINDS, f"{case.name}:{number}: unknown directive expect-{what}"
        if what == "loaded":
            exp.loaded.append(rest)
            continue
        p = _PROBLEM.fullmatch(rest)
        assert p is not None, f"{case.name}:{number}: expected 'LINE [FIELD]: REASON', got {rest!r}"
        item = Expected(int(p["line"]), p["field"] or "", p["reason"])
        (exp.errors if what == "error" else exp.warnings).append(item)
    return exp


def load_case(case: Path) -> LoadResult:
    return load_text(case.read_text(encoding="utf-8"), str(case), created=CREATED)


def _as_directive(e: InputError) -> str:
    where = f"{e.line} {e.field}" if e.field else str(e.line)
    return f"# expect-{e.severity}: {where}: {e.reason}"


def _match(expected: list[Expected], actual: list[InputError]) -> tuple[list[Expected], list[InputError]]:
    """Pair expectations with problems one to one; what is left over on either side."""
    left = list(actual)
    missing = []
    for exp in expected:
        hit = next((a for a in left if exp.matches(a)), None)
        if hit is None:
            missing.append(exp)
        else:
            left.remove(hit)
    return missing, left


def _check_problems(case: Path, severity: str, expected: list[Expected], actual: list[InputError]) -> None:
    missing, unexpected = _match(expected, actual)
    if missing or unexpected:
        report = [f"{case.name}: {severity}s do not match the expectations"]
        report += [f"  missing:    {m}" for m in missing]
        report += [f"  unexpected: {_as_directive(u)}" for u in unexpected]
        report += ["  all reported:"] + [f"    {_as_directive(a)}" for a in actual]
        pytest.fail("\n".join(report), pytrace=False)


def test_corpus_is_there() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case_is_well_formed(case: Path) -> None:
    """Each case describes itself, has a good object and something bad in it."""
    exp = read_expectations(case)
    assert exp.description, f"{case.name}: describe the case in its leading comments"
    assert exp.loaded, f"{case.name}: a case needs at least one good object (expect-loaded)"
    assert exp.errors or exp.warnings, f"{case.name}: a case needs at least one bad object"
    if case.suffix == ".json":
        json.loads(case.read_text(encoding="utf-8"))  # really JSON, not YAML in disguise


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_input(case: Path) -> None:
    exp = read_expectations(case)
    result = load_case(case)

    _check_problems(case, "error", exp.errors, errors_of(result))
    _check_problems(case, "warning", exp.warnings, warnings_of(result))
    assert all(e.file == str(case) for e in result.errors)

    loaded = sorted(ident(o) for o in result.objects)
    assert loaded == sorted(exp.loaded), f"{case.name}: loaded objects differ"

    # A rejected object carries its own errors, attributed to it, and is not among the objects.
    for r in result.rejected:
        assert r.errors, f"{case.name}: {r.kind} {r.meta.name} rejected without an error"
        for e in r.errors:
            assert e in result.errors
            assert (e.kind, e.name) == (r.kind, r.meta.name)
        assert not any(o.kind == r.kind and o.meta == r.meta for o in result.objects)


def _object_spans(case: Path) -> list[tuple[int, int]]:
    """The line range of every object in a case, found independently of the loader.

    Documents are split at `---` lines and composed by PyYAML on their own; a document that does
    not compose, or is not a mapping, is one span; a List's items are a span each.
    """
    text = case.read_text(encoding="utf-8")
    lines = text.split("\n")
    chunks: list[tuple[int, int]] = []
    start = 1
    for n, line in enumerate(lines, 1):
        if re.fullmatch(r"---\s*", line):
            chunks.append((start, n - 1))
            start = n
    chunks.append((start, len(lines)))
    spans = []
    for first, last in chunks:
        chunk = "\n".join(lines[first - 1 : last])
        try:
            node = yaml.compose(chunk, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            spans.append((first, last))
            continue
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            continue
        items = None
        if isinstance(node, yaml.MappingNode):
            d = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            kind = d.get("kind")
            if isinstance(kind, yaml.ScalarNode) and kind.value.endswith("List") and "items" in d:
                items = d["items"]
        if isinstance(items, yaml.SequenceNode):
            spans += [(first + i.start_mark.line, first + i.end_mark.line) for i in items.value]
        else:
            spans.append((first, last))
    return spans


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_nothing_dropped_silently(case: Path) -> None:
    """Every object either loads or has an error or warning on one of its lines."""
    result = load_case(case)
    spans = _object_spans(case)
    assert spans, f"{case.name}: no objects found"
    for first, last in spans:
        loaded = any(first <= o.source.line <= last for o in result.objects)
        reported = any(first <= e.line <= last for e in result.errors)
        assert loaded or reported, f"{case.name}: the object on lines {first}-{last} vanished without a word"
