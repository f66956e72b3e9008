"""JSON input: parsed by the C scanner (json_source), with the objects and the errors (file, line,
field, reason) that reading the same text as YAML gives."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshgate.resources.json_source import located, parse_json
from meshgate.resources.loader import LoadResult, _load_text, load_text
from meshgate.resources.yaml_source import MAX_DEPTH, LDict, parse_documents

from .support import CREATED, errors_of, ident

FILE = "in.json"
_BRACKET_IN_STRING = re.compile(r'"(?:[^"\\]|\\.)*[\[\]{}]')
_NOT_LIKE_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]|\r(?!\n)")


def as_yaml(text: str) -> LoadResult:
    """`text` loaded by the YAML reader, as every .json file was before the fast path."""
    return _load_text(text, FILE, CREATED, None)


def summary(result: LoadResult) -> tuple[list[str], list[str], list[str]]:
    """Errors and warnings (as printed), loaded objects and rejected objects, comparable."""
    def without_field_lines(obj: Any) -> str:
        # An object's own line (Source) must match; the lines that typed objects keep of some
        # fields (a rule's, a listener's) are not shown after loading and are not looked up.
        text = re.sub(r"Source\(file='[^']*', line=(\d+)\)", r"SOURCE\1", repr(obj))
        return re.sub(r"\bline=\d+", "line=_", text)

    return ([str(e) for e in result.errors], [without_field_lines(o) for o in result.objects],
            [f"{r.kind} {r.meta.namespace}/{r.meta.name} {r.source} {r.errors}" for r in result.rejected])


# -- the fast path and its lines ------------------------------------------------------------------

LIST = textwrap.dedent("""\
    {
      "apiVersion": "v1",
      "kind": "List",
      "items": [
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {"name": "good", "namespace": "shop"},
          "spec": {"ports": [{"name": "http", "port": 80}]}
        },
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "bad", "namespace": "shop"},
         "spec": {"ports": [{"name": "http", "port": "80", "bogus": 1.5}]}}
      ]
    }
    """)


def test_a_list_is_taken_by_the_fast_path_with_each_items_line() -> None:
    doc = parse_json(LIST)
    assert doc is not None and doc.listed
    assert [o.line for o in doc.objects] == [5, 11]
    assert not isinstance(doc.objects[0].value, LDict)  # plain values: no lines paid for
    assert doc.objects[1].value["spec"]["ports"][0] == {"name": "http", "port": "80", "bogus": 1.5}


def test_located_reads_one_object_again_with_its_lines() -> None:
    doc = parse_json(LIST)
    assert doc is not None
    lined = located(LIST, doc.objects[1])
    assert isinstance(lined, LDict)
    assert lined.line == 11
    assert lined.key_lines == {"apiVersion": 11, "kind": 11, "metadata": 12, "spec": 13}
    assert lined == doc.objects[1].value


def test_errors_name_the_line_of_the_field() -> None:
    result = load_text(LIST, FILE, CREATED)
    assert [ident(o) for o in result.objects] == ["Service shop/good"]
    assert sorted((e.line, e.field, e.reason) for e in errors_of(result)) == [
        (13, "spec.ports[0].bogus", "unknown field"),
        (13, "spec.ports[0].port", "must be an integer, got string"),
    ]
    assert summary(result) == summary(as_yaml(LIST))


def test_a_single_object() -> None:
    text = '\n\n  {"apiVersion": "v1", "kind": "Namespace",\n   "metadata": {"name": "Shop"}}\n'
    doc = parse_json(text)
    assert doc is not None and not doc.listed and doc.objects[0].line == 3
    result = load_text(text, FILE, CREATED)
    assert [(e.line, e.field) for e in result.errors] == [(4, "metadata.name")]
    assert summary(result) == summary(as_yaml(text))


def test_a_gateway_keeps_the_line_of_its_class() -> None:
    text = ('{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",\n'
            ' "metadata": {"name": "gw", "namespace": "default"},\n'
            ' "spec": {\n  "gatewayClassName": "meshgate",\n'
            '  "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}\n')
    (gw,) = load_text(text, FILE, CREATED).objects
    assert (gw.source.line, gw.class_line) == (1, 4)


def test_numbers_are_what_yaml_makes_of_them() -> None:
    text = '{"kind": "X", "a": 1.5, "b": 1e5, "c": 1.5e+10, "d": -0, "e": NaN, "f": 12345678901234567890}'
    doc = parse_json(text)
    assert doc is not None
    assert doc.value == parse_documents(text)[0].value
    assert doc.value == {"kind": "X", "a": 1.5, "b": "1e5", "c": 1.5e10, "d": 0, "e": "NaN",
                         "f": 12345678901234567890}


# -- what the fast path leaves to the YAML reader -------------------------------------------------


def test_duplicate_keys_are_refused_with_their_line() -> None:
    text = '{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "a",\n   "name": "b"}}\n'
    assert parse_json(text) is None
    result = load_text(text, FILE, CREATED)
    assert [(e.line, e.reason) for e in result.errors] == [(3, "duplicate key 'name'")]
    assert not result.objects


def test_malformed_json_names_its_line() -> None:
    text = '{\n  "apiVersion": "v1",\n  "kind": "Namespace"\n  "metadata": {"name": "a"}\n}\n'
    assert parse_json(text) is None
    (error,) = load_text(text, FILE, CREATED).errors
    assert error.line == 4 and error.reason.startswith("invalid YAML")


def test_wrong_shapes_are_reported_as_before() -> None:
    for text, line, reason in [
        ('[1, 2]', 1, "document must be a mapping (a Kubernetes object), got list"),
        ('{"kind": "List", "items": [\n {"kind": "Namespace"},\n 3]}', 3, "must be a mapping (a Kubernetes object)"),
        ('{"kind": "List", "items": {}}', 1, "items must be a list"),
    ]:
        assert parse_json(text) is None
        result = load_text(text, FILE, CREATED)
        assert (result.errors[-1].line, result.errors[-1].reason) == (line, reason), text


def test_characters_yaml_reads_otherwise_are_left_to_it() -> None:
    for char in ("\x7f", "\x85", "\u2028"):
        text = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "x": "' + char + '"}}'
        assert parse_json(text) is None
        assert summary(load_text(text, FILE, CREATED)) == summary(as_yaml(text))
    assert parse_json('{"kind": "X",\r "a": 1}') is None  # a lone CR is a line break in YAML only


def test_deep_nesting_is_refused_as_in_yaml() -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    text = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "x": ' + deep + "}"
    assert parse_json(text) is None
    (error,) = load_text(text, FILE, CREATED).errors
    assert error.reason == f"document nests deeper than {MAX_DEPTH} levels"
    fits = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert parse_json('{"x": ' + fits + "}") is not None


def test_document_limit_counts_list_items() -> None:
    text = json.dumps({"kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"n{i}"}} for i in range(3)]}, indent=1)
    (error,) = load_text(text, FILE, CREATED, max_documents=2).errors
    assert error.reason == "more than 2 documents (--max-documents): not loaded"
    assert error.line == as_yaml_limit(text, 2).line


def as_yaml_limit(text: str, limit: int) -> Any:
    from meshgate.resources.loader import _TooManyDocuments

    try:
        _load_text(text, FILE, CREATED, limit)
    except _TooManyDocuments as exc:
        return exc
    raise AssertionError("the YAML reader did not stop at the limit")


# -- property: JSON and YAML reading of the same text agree -----------------------------------

_names = st.sampled_from(["web", "api", "Bad_Name", "", "a" * 70, "x.y"])
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-70000, 70000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    st.sampled_from(["80", "TCP", "yes", "on", "1e5", "0x1F", "~", "null", "[x]", "{y}", "a\\\"b"]),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "port", "name", "x-y", "{k}"]), inner,
                                                 max_size=3)), max_leaves=8)
_port = st.fixed_dictionaries({"name": st.one_of(_names, _scalars), "port": st.one_of(st.integers(-1, 70000), _scalars)},
                              optional={"protocol": st.sampled_from(["TCP", "UDP", "tcp", 7]), "extra": _values})


def _object(kind: str, name: str, spec: Any, extra: dict) -> dict:
    api = {"Service": "v1", "Namespace": "v1", "HTTPRoute": "gateway.networking.k8s.io/v1",
           "Thing": "example.com/v1", "Gateway": "gateway.networking.k8s.io/v1"}[kind]
    obj: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": {"name": name}}
    if kind != "Namespace":
        obj["metadata"]["namespace"] = "ns"
    if spec is not None:
        obj["spec"] = spec
    obj.update(extra)
    return obj


_specs = {
    "Service": st.fixed_dictionaries({"ports": st.lists(_port, max_size=3)}, optional={"selector": _values}),
    "HTTPRoute": st.fixed_dictionaries({"parentRefs": st.lists(st.fixed_dictionaries({"name": _names}), max_size=2)},
                                       optional={"hostnames": st.lists(st.one_of(_names, _scalars), max_size=2),
                                                 "rules": st.lists(st.dictionaries(
                                                     st.sampled_from(["name", "matches", "backendRefs"]), _values,
                                                     max_size=2), max_size=2)}),
    "Gateway": st.fixed_dictionaries({"gatewayClassName": st.one_of(_names, _scalars),
                                      "listeners": st.lists(st.fixed_dictionaries(
                                          {"name": _names, "port": st.integers(0, 70000),
                                           "protocol": st.sampled_from(["HTTP", "TCP", "NOPE"])}), max_size=2)}),
    "Namespace": st.none(),
    "Thing": _values,
}
_objects = st.sampled_from(sorted(_specs)).flatmap(lambda kind: st.builds(
    _object, st.just(kind), _names, _specs[kind], st.dictionaries(st.sampled_from(["status", "bogus"]), _values,
                                                                  max_size=1)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_objects, min_size=1, max_size=3), listed=st.booleans(), indent=st.sampled_from([None, 1, 2]))
def test_json_and_yaml_reading_agree(items: list[dict], listed: bool, indent: int | None) -> None:
    value = {"apiVersion": "v1", "kind": "List", "items": items} if listed else items[0]
    text = json.dumps(value, indent=indent, ensure_ascii=False) + "\n"
    # Every such text is the fast path's, unless a string holds brackets (the nesting check counts them).
    assert parse_json(text) is not None or _BRACKET_IN_STRING.search(text)
    assert summary(load_text(text, FILE, CREATED)) == summary(as_yaml(text))


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(st.text(max_size=4), _values, max_size=4), indent=st.sampled_from([None, 2]))
def test_json_values_are_the_yaml_values(value: dict, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    doc = parse_json(text)
    if _NOT_LIKE_YAML.search(text):  # read otherwise by the YAML reader, even in a string: left to it
        assert doc is None
        return
    assert doc is not None or _BRACKET_IN_STRING.search(text)
    if doc is not None:
        assert doc.value == parse_documents(text)[0].value
