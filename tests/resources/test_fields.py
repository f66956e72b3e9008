"""fields: typed, validated reads that report field path, line and reason instead of raising."""

from __future__ import annotations

import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshgate.resources import formats
from meshgate.resources.fields import Fields, ObjectContext
from meshgate.resources.yaml_source import parse_documents


def fields(text: str, path: str = "spec") -> Fields:
    """Fields over the `spec` of a small YAML text (so lines are real)."""
    doc = parse_documents(textwrap.dedent(text))[0].value
    ctx = ObjectContext("f.yaml", 1, "Thing", "ns", "obj")
    return Fields(doc["spec"], path, ctx)


def problems(f: Fields) -> list[tuple[int, str, str, str]]:
    return [(e.line, e.field, e.reason, e.severity) for e in f.ctx.errors]


SPEC = """\
kind: Thing
spec:
  name: web
  port: 80
  flag: true
  ratio: 0.5
  quoted: "80"
  empty: ""
  nothing: null
  list: [a, b]
  map: {k: v}
"""


# -- strings --------------------------------------------------------------------------------


def test_str_reads_a_string() -> None:
    f = fields(SPEC)
    assert f.str("name") == "web"
    assert f.str("quoted") == "80"
    assert problems(f) == []


def test_str_missing_optional_gives_default() -> None:
    f = fields(SPEC)
    assert f.str("absent") is None
    assert f.str("absent", default="d") == "d"
    assert f.str("nothing", default="d") == "d"  # null is absent
    assert problems(f) == []


def test_str_required_missing_points_at_the_mapping() -> None:
    f = fields(SPEC)
    assert f.str("absent", required=True) is None
    assert problems(f) == [(3, "spec.absent", "required field is missing", "error")]


def test_str_wrong_type() -> None:
    f = fields(SPEC)
    assert f.str("port") is None
    assert f.str("flag") is None
    assert f.str("list") is None
    assert problems(f) == [
        (4, "spec.port", "must be a string, got integer", "error"),
        (5, "spec.flag", "must be a string, got boolean", "error"),
        (10, "spec.list", "must be a string, got list", "error"),
    ]


def test_str_constraints() -> None:
    f = fields(SPEC)
    assert f.str("empty", min_len=1) is None
    assert f.str("name", max_len=2) is None
    assert f.str("name", max_len=3) == "web"
    assert f.str("name", enum=("api", "db")) is None
    assert f.str("name", pattern=re.compile(r"[0-9]+"), pattern_hint="must be digits") is None
    assert f.str("name", check=lambda v: "no thanks") is None
    assert f.str("name", check=lambda v: None) == "web"
    assert [p[2] for p in problems(f)] == [
        "must not be empty",
        "must be at most 2 characters, got 3",
        "unsupported value 'web': must be one of api, db",
        "invalid value 'web': must be digits",
        "invalid value 'web': no thanks",
    ]


def test_str_enum_frozenset_lists_sorted() -> None:
    f = fields(SPEC)
    f.str("name", enum=frozenset({"z", "a"}))
    assert problems(f)[0][2] == "unsupported value 'web': must be one of a, z"


# -- numbers and booleans -------------------------------------------------------------------


def test_int_reads_an_int() -> None:
    f = fields(SPEC)
    assert f.int("port", min=1, max=65535) == 80
    assert problems(f) == []


@pytest.mark.parametrize(("lo", "hi", "ok"), [(80, 80, True), (81, None, False), (None, 79, False), (1, 65535, True)])
def test_int_bounds_are_inclusive(lo: int | None, hi: int | None, ok: bool) -> None:
    f = fields(SPEC)
    assert (f.int("port", min=lo, max=hi) == 80) is ok
    if not ok:
        line, path, reason, _ = problems(f)[0]
        assert (line, path) == (4, "spec.port")
        # One bound given: the message names that one alone.
        assert reason == (f"must be at least {lo}, got 80" if hi is None else f"must be at most {hi}, got 80")


def test_int_refuses_booleans_floats_and_strings() -> None:
    f = fields(SPEC)
    assert f.int("flag") is None
    assert f.int("ratio") is None
    assert f.int("quoted") is None
    assert [p[2] for p in problems(f)] == [
        "must be an integer, got boolean",
        "must be an integer, got number",
        "must be an integer, got string",
    ]


def test_int_required_and_default() -> None:
    f = fields(SPEC)
    assert f.int("absent", default=7) == 7
    assert f.int("absent", required=True) is None
    assert problems(f) == [(3, "spec.absent", "required field is missing", "error")]


def test_bool() -> None:
    f = fields(SPEC)
    assert f.bool("flag") is True
    assert f.bool("absent", default=False) is False
    assert f.bool("quoted") is None
    assert problems(f) == [(7, "spec.quoted", "must be a boolean, got string", "error")]


def test_int_or_str() -> None:
    f = fields(SPEC)
    assert f.int_or_str("port") == 80
    assert f.int_or_str("name") == "web"
    assert f.int_or_str("flag") is None
    assert f.int_or_str("map") is None
    assert [p[2] for p in problems(f)] == [
        "must be an integer or a string, got boolean",
        "must be an integer or a string, got mapping",
    ]


# -- containers -----------------------------------------------------------------------------


NESTED = """\
spec:
  rules:
  - name: a
    matches:
    - path: /a
  - just-a-string
  -
    name: c
  tags: [x, 1, y, x]
  labels:
    app: web
    version: 2
    empty:
"""


def test_map_path_and_line() -> None:
    f = fields(SPEC)
    m = f.map("map")
    assert m is not None
    assert (m.path, m.line) == ("spec.map", 11)
    assert m.str("k") == "v"
    assert f.map("name") is None
    assert problems(f) == [(3, "spec.name", "must be a mapping, got string", "error")]


def test_map_required() -> None:
    f = fields(SPEC)
    assert f.map("absent", required=True) is None
    assert problems(f) == [(3, "spec.absent", "required field is missing", "error")]


def test_maps_paths_lines_and_non_mapping_items() -> None:
    f = fields(NESTED)
    rules = list(f.maps("rules"))
    assert [(r.path, r.line) for r in rules] == [("spec.rules[0]", 3), ("spec.rules[2]", 8)]
    assert problems(f) == [(6, "spec.rules[1]", "must be a mapping, got string", "error")]
    inner = list(rules[0].maps("matches"))
    assert [(m.path, m.line) for m in inner] == [("spec.rules[0].matches[0]", 5)]
    inner[0].str("path", check=formats.hostname)
    assert problems(f)[-1][:2] == (5, "spec.rules[0].matches[0].path")


def test_sub_of_an_unnamed_root() -> None:
    doc = parse_documents("a: {b: 1}\n")[0].value
    f = Fields(doc, "", ObjectContext("f.yaml", 1))
    assert f.sub("a") == "a"
    assert f.map("a").sub("b") == "a.b"


def test_list_size_limits() -> None:
    f = fields(NESTED)
    assert list(f.maps("rules", max_items=2)) == []
    assert list(f.maps("rules", min_items=4)) == []
    assert list(f.maps("absent", required=True)) == []
    assert [p[1:3] for p in problems(f)] == [
        ("spec.rules", "must have at most 2 items, got 3"),
        ("spec.rules", "must have at least 4 items"),
        ("spec.absent", "required field is missing"),
    ]


def test_maps_of_a_non_list() -> None:
    f = fields(SPEC)
    assert list(f.maps("map")) == []
    assert problems(f) == [(11, "spec.map", "must be a list, got mapping", "error")]


def test_strs_items_lines_and_uniqueness() -> None:
    f = fields(NESTED)
    assert f.strs("tags", unique=True) == ["x", "y"]
    assert problems(f) == [
        (9, "spec.tags[1]", "must be a string, got integer", "error"),
        (9, "spec.tags[3]", "duplicate value 'x'", "error"),
    ]


def test_strs_check_and_item_lines_in_block_lists() -> None:
    doc = parse_documents("spec:\n  hosts:\n  - a.example.com\n  - Bad.example.com\n")[0].value
    f = Fields(doc["spec"], "spec", ObjectContext("f.yaml", 1))
    assert f.strs("hosts", check=formats.hostname) == ["a.example.com"]
    (line, path, reason, _), = problems(f)
    assert (line, path) == (4, "spec.hosts[1]")
    assert reason.startswith("invalid value 'Bad.example.com': ")


def test_str_map() -> None:
    f = fields(NESTED)
    assert f.str_map("labels") == {"app": "web", "empty": ""}
    assert problems(f) == [(12, "spec.labels.version", "must be a string, got integer (quote the value)", "error")]


def test_str_map_checks_keys_and_types() -> None:
    doc = parse_documents("spec:\n  m:\n    ok: c\n    1: a\n    Bad Key: b\n")[0].value
    f = Fields(doc["spec"], "spec", ObjectContext("f.yaml", 1))
    assert f.str_map("m", check_key=formats.label_key) == {"ok": "c"}
    assert [p[:2] for p in problems(f)] == [(4, "spec.m.1"), (5, "spec.m.Bad Key")]
    assert problems(f)[0][2] == "keys must be strings"
    assert problems(f)[1][2].startswith("invalid key 'Bad Key'")


def test_str_map_absent_or_wrong() -> None:
    f = fields(SPEC)
    assert f.str_map("absent") == {}
    assert f.str_map("list") == {}
    assert problems(f) == [(10, "spec.list", "must be a mapping, got list", "error")]


# -- context --------------------------------------------------------------------------------


def test_warnings_do_not_fail_errors_do() -> None:
    f = fields(SPEC)
    f.error("map", "odd", severity="warning")
    assert problems(f) == [(11, "spec.map", "odd", "warning")]
    assert not f.ctx.failed
    f.error("name", "boom")
    assert f.ctx.failed


def test_errors_carry_the_object() -> None:
    f = fields(SPEC)
    f.error(None, "whole thing is wrong")
    (e,) = f.ctx.errors
    assert (e.file, e.line, e.field, e.kind, e.namespace, e.name) == ("f.yaml", 3, "spec", "Thing", "ns", "obj")
    assert str(e) == "f.yaml:3: Thing ns/obj spec: whole thing is wrong"


def test_has_treats_null_as_absent() -> None:
    f = fields(SPEC)
    assert f.has("name") and f.has("empty")
    assert not f.has("nothing") and not f.has("absent")


def test_lines_fall_back_without_line_information() -> None:
    ctx = ObjectContext("f.yaml", 42)
    f = Fields({"a": 1, "l": [1, "x"]}, "spec", ctx)
    assert f.line == 42
    assert f.line_of("a") == 42
    f.str("a")
    f.strs("l")
    assert [e.line for e in ctx.errors] == [42, 42]


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(["0", "00", "01", "7", "10", "99", "100", "199", "249", "250", "255", "256",
                                       "300", "1000", "", "a", "-1", "\u0663", " 1"]), min_size=3, max_size=5))
def test_ipv4_check_is_ipaddress(parts: list[str]) -> None:
    # The fast check (a regular expression) accepts exactly what ipaddress.IPv4Address does.
    import ipaddress

    value = ".".join(parts)
    try:
        ipaddress.IPv4Address(value)
        valid = True
    except ValueError:
        valid = False
    assert (formats.ipv4_address(value) is None) == valid
