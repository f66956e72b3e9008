"""yaml_source: documents with line numbers, scalar typing, alias budget, nesting, recovery."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from meshgate.resources.yaml_source import (
    ALIAS_EXPANSION_BUDGET,
    MAX_DEPTH,
    LDict,
    LList,
    YAMLSyntaxError,
    parse_documents,
    parse_stream,
)


def one(text: str) -> object:
    docs = parse_documents(textwrap.dedent(text))
    assert len(docs) == 1
    return docs[0].value


def syntax_error(text: str) -> YAMLSyntaxError:
    with pytest.raises(YAMLSyntaxError) as info:
        parse_documents(text)
    return info.value


# -- line numbers ---------------------------------------------------------------------------


def test_lines_of_nested_keys() -> None:
    doc = one(
        """\
        apiVersion: v1
        kind: Service
        metadata:
          name: web

          labels:
            app: web
        spec:
          ports:
          - name: http
            port: 80
        """
    )
    assert isinstance(doc, LDict)
    assert doc.line == 1
    assert doc.key_lines == {"apiVersion": 1, "kind": 2, "metadata": 3, "spec": 8}
    md = doc["metadata"]
    assert isinstance(md, LDict)
    assert md.line == 4
    assert md.key_lines == {"name": 4, "labels": 6}
    assert md["labels"].line == 7
    assert md["labels"].key_lines == {"app": 7}


def test_lines_of_list_items() -> None:
    doc = one(
        """\
        ports:
        - name: http
          port: 80

        - name: https
          port: 443
        - 8080
        - [a, b]
        hosts: [a.example.com,
                b.example.com]
        """
    )
    ports = doc["ports"]
    assert isinstance(ports, LList)
    assert ports.line == 2
    assert ports.item_lines == [2, 5, 7, 8]
    assert ports[1].key_lines == {"name": 5, "port": 6}
    assert ports[3].line == 8
    assert doc["hosts"].item_lines == [9, 10]


def test_lines_of_multiline_scalars_and_later_keys() -> None:
    doc = one(
        """\
        data:
          script: |
            line one
            line two
          after: x
        """
    )
    assert doc["data"]["script"] == "line one\nline two\n"
    assert doc["data"].key_lines == {"script": 2, "after": 5}


def test_document_lines_in_a_stream() -> None:
    text = "# leading comment\n---\na: 1\n---\n\n\nb: 2\n---\n- x\n"
    docs = parse_documents(text)
    assert [d.line for d in docs] == [3, 7, 9]
    assert [d.value for d in docs] == [{"a": 1}, {"b": 2}, ["x"]]


def test_json_lines() -> None:
    text = '{\n  "kind": "Service",\n  "spec": {\n    "ports": [\n      {"port": 80},\n      {"port": 443}\n    ]\n  }\n}\n'
    doc = one(text)
    assert doc.key_lines == {"kind": 2, "spec": 3}
    assert doc["spec"]["ports"].item_lines == [5, 6]


def test_alias_item_line_is_where_the_alias_is_used() -> None:
    doc = one("a: &x {k: v}\nb:\n- 1\n- *x\n")
    assert doc["b"].item_lines == [3, 4]
    assert doc["b"][1] == {"k": "v"}


# -- scalar typing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", True),  # YAML 1.1 booleans, as kubectl (go-yaml v2) reads them
        ("yes", True),
        ("off", False),
        ("no", False),
        ("True", True),
        ("false", False),
        ("80", 80),
        ("-1", -1),
        ("0x1F", 31),
        ("1_000", 1000),
        ("1.5", 1.5),
        ("~", None),
        ("null", None),
        ("", None),
        ('"80"', "80"),
        ("'yes'", "yes"),
        ("!!str 80", "80"),
        ('!!int "12"', 12),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),  # timestamps stay text
        ("2026-01-01", "2026-01-01"),
        ("!!binary aGk=", "aGk="),  # as the text, not decoded
        ("10 seconds", "10 seconds"),
    ],
)
def test_scalar_types(text: str, value: object) -> None:
    got = one(f"v: {text}\n")["v"]
    assert got == value
    assert type(got) is type(value)


def test_keys_are_typed_too() -> None:
    doc = one("80: a\ntrue: b\nnull: c\n'80': d\n")
    assert list(doc) == [80, True, None, "80"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("v: !!int abc\n", "invalid integer 'abc'"),
        ("v: !!float abc\n", "invalid number 'abc'"),
        ("v: !!bool maybe\n", "invalid boolean 'maybe'"),
    ],
)
def test_impossible_explicit_tags_are_syntax_errors(text: str, reason: str) -> None:
    err = syntax_error(text)
    assert reason in err.reason
    assert err.line == 1


# -- structure errors -----------------------------------------------------------------------


def test_duplicate_key() -> None:
    err = syntax_error("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (err.line, err.reason) == (4, "duplicate key 'c'")


def test_same_key_in_different_mappings_is_fine() -> None:
    assert one("a: {c: 1}\nb: {c: 2}\n") == {"a": {"c": 1}, "b": {"c": 2}}


def test_merge_key_refused() -> None:
    err = syntax_error("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n")
    assert err.line == 3
    assert "merge keys" in err.reason


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert one("'<<': x\n") == {"<<": "x"}


def test_collection_keys_refused() -> None:
    err = syntax_error("? [a, b]\n: c\n")
    assert err.line == 1
    assert "mapping keys must be scalars" in err.reason
    err = syntax_error("a: &k {x: 1}\n? *k\n: v\n")
    assert err.line == 2
    assert "mapping keys must be scalars" in err.reason


def test_undefined_alias() -> None:
    err = syntax_error("a: *nowhere\n")
    assert err.line == 1
    assert "undefined alias" in err.reason


def test_malformed_yaml_line() -> None:
    err = syntax_error("a: 1\nb: [1, 2\nc: 3\n")
    assert err.reason.startswith("invalid YAML:")
    assert err.line == 3  # where the parser found the problem


# -- aliases --------------------------------------------------------------------------------


def _alias_doc(items: int, aliases: int) -> str:
    """An anchored list of `items` scalars (items + 1 nodes), then `aliases` aliases of it."""
    anchor = "a: &a [" + ", ".join(["x"] * items) + "]\n"
    return anchor + "".join(f"b{i}: *a\n" for i in range(aliases))


def test_alias_expands_to_the_same_value() -> None:
    doc = one("a: &a {x: [1, 2]}\nb: *a\n")
    assert doc["b"] == {"x": [1, 2]}


def test_budget_is_as_documented() -> None:
    assert ALIAS_EXPANSION_BUDGET == 10_000


def test_alias_expansion_exactly_at_budget_loads() -> None:
    doc = one(_alias_doc(ALIAS_EXPANSION_BUDGET - 1, 1))  # one alias of exactly 10 000 nodes
    assert len(doc["b0"]) == ALIAS_EXPANSION_BUDGET - 1


def test_alias_expansion_one_over_budget_fails() -> None:
    err = syntax_error(_alias_doc(ALIAS_EXPANSION_BUDGET, 1))  # 10 001 nodes
    assert "YAML aliases expand to more than 10000 nodes" in err.reason
    assert err.line == 2  # the alias that went over


def test_budget_counts_each_alias_once() -> None:
    # Two aliases of 5 000 nodes each are exactly the budget: each node counts once per alias.
    doc = one(_alias_doc(ALIAS_EXPANSION_BUDGET // 2 - 1, 2))
    assert len(doc["b1"]) == ALIAS_EXPANSION_BUDGET // 2 - 1
    with pytest.raises(YAMLSyntaxError):
        parse_documents(_alias_doc(ALIAS_EXPANSION_BUDGET // 2 - 1, 3))


def test_nested_aliases_count_their_expansion() -> None:
    # c holds 10 aliases of b, which holds 10 of a (11 nodes): 10 * (1 + 10 * 11) = 1110 nodes.
    base = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    c = "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    one(base + c * 1)
    budget_left = ALIAS_EXPANSION_BUDGET - 110 - 1110
    fits = budget_left // 1111  # each further *c costs 1111
    ok = base + c + "d: [" + ", ".join(["*c"] * fits) + "]\n"
    one(ok)
    with pytest.raises(YAMLSyntaxError, match="expand to more than"):
        parse_documents(base + c + "d: [" + ", ".join(["*c"] * (fits + 1)) + "]\n")


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    err = syntax_error("\n".join(levels) + "\n")
    assert "possible YAML bomb" in err.reason


def test_budget_is_per_document() -> None:
    doc = _alias_doc(ALIAS_EXPANSION_BUDGET // 2 - 1, 2)
    docs = parse_documents(doc + "---\n" + doc)
    assert len(docs) == 2


def test_recursive_alias() -> None:
    err = syntax_error("a: b\nc: &loop\n  d: *loop\n")
    assert err.reason == "recursive YAML alias"
    assert err.line == 3
    assert "recursive" in syntax_error("a: &s [*s]\n").reason


# -- nesting --------------------------------------------------------------------------------


def _nested(lists: int) -> str:
    """Two mappings, then `lists` nested flow sequences: 2 + lists collections deep."""
    return "a:\n  b: " + "[" * lists + "]" * lists + "\n"


def test_nesting_at_the_limit_loads() -> None:
    value = one(_nested(MAX_DEPTH - 2))["a"]["b"]
    depth = 1
    while value:
        value, depth = value[0], depth + 1
    assert depth == MAX_DEPTH - 2


def test_nesting_over_the_limit_fails() -> None:
    err = syntax_error(_nested(MAX_DEPTH - 1))
    assert err.reason == f"document nests deeper than {MAX_DEPTH} levels"
    assert err.line == 2


def test_block_nesting_over_the_limit_reports_its_line() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5))
    err = syntax_error(text)
    assert err.line == MAX_DEPTH + 1


@pytest.mark.parametrize("text", ["'- ' * 1_000_000 + 'x'", "'[' * 1_000_000", "'{a: ' * 300_000"])
def test_absurd_nesting_does_not_crash_the_process(text: str) -> None:
    # libyaml's own composer recurses in C and segfaults on these; run in a child process so a
    # regression fails this test instead of killing the test run.
    # Which limit stops the document first (ours, or libyaml's since PyYAML 6.0.3) is the
    # library's business: the behaviour asserted is a clean YAMLSyntaxError about nesting.
    code = (
        "from meshgate.resources.yaml_source import parse_documents, YAMLSyntaxError\n"
        f"try:\n    parse_documents({text})\nexcept YAMLSyntaxError as e:\n    print(e.line, e.reason)\n"
        "else:\n    print('parsed')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    line, _, reason = proc.stdout.strip().partition(" ")
    assert int(line) >= 1
    assert re.search(r"\bnest", reason), reason


# -- streams and recovery -------------------------------------------------------------------


def test_empty_inputs() -> None:
    assert parse_documents("") == []
    assert parse_documents("# only a comment\n") == []
    assert [d.value for d in parse_documents("---\n---\n")] == [None, None]


def test_parse_documents_raises_on_any_bad_document() -> None:
    with pytest.raises(YAMLSyntaxError):
        parse_documents("a: 1\n---\nb: [\n---\nc: 3\n")


def test_parse_stream_keeps_the_good_documents() -> None:
    text = "a: 1\n---\nb: [\n---\nc: 3\n---\nd: 1\nd: 2\n---\ne: 5\n"
    docs, errors = parse_stream(text)
    assert [d.value for d in docs] == [{"a": 1}, {"c": 3}, {"e": 5}]
    assert [d.line for d in docs] == [1, 5, 10]
    assert [(e.line, e.reason) for e in errors] == [
        (4, "invalid YAML: did not find expected node content"),
        (8, "duplicate key 'd'"),
    ]
    # line numbers inside documents after a bad one are still those of the whole file
    assert docs[2].value.key_lines == {"e": 10}


def test_parse_stream_without_errors_is_parse_documents() -> None:
    text = "a: 1\n---\nb: 2\n"
    docs, errors = parse_stream(text)
    assert errors == []
    assert docs == parse_documents(text)


def test_parse_stream_keeps_directives_with_their_document() -> None:
    text = "%YAML 1.1\n---\na: 1\n---\nb: [\n%YAML 1.1\n---\nc: 3\n"
    docs, errors = parse_stream(text)
    assert [d.value for d in docs] == [{"a": 1}, {"c": 3}]
    assert [d.line for d in docs] == [3, 8]
    assert len(errors) == 1
    assert 4 <= errors[0].line <= 6


def test_parse_stream_crlf() -> None:
    docs, errors = parse_stream("a: 1\r\n---\r\nb: [\r\n---\r\nc: 3\r\n")
    assert [d.value for d in docs] == [{"a": 1}, {"c": 3}]
    assert docs[1].line == 5
    assert len(errors) == 1


def test_dashes_inside_a_line_do_not_split() -> None:
    docs, errors = parse_stream("a: x---y\nb: [\n---c: 1\n")
    assert docs == []
    assert len(errors) == 1
