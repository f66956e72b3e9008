"""JSON input, parsed by the standard library's C scanner; lines are found only when needed.

A `.json` file is one JSON value: a Kubernetes object, or a `kind: List` whose items are
objects (as `kubectl get -o json` writes). Parsing it with libyaml, as YAML, costs about thirty
times what the C scanner of Python's `json` module does, because every YAML event becomes a
Python object with its marks. The scanner gives plain values without lines, so:

- each object's own line (an object's `Source`) is found from the offset where it starts, which
  the top level is walked for (items one by one, each scanned in C);
- the lines of the fields inside an object are found only when they are needed, by parsing that
  object's text again with the line-aware YAML reader (`located`): JSON is YAML, so the values
  are the same, now with lines.

Values are the ones the YAML reader gives for the same text: a number with a fraction or an
exponent becomes what YAML 1.1 makes of it (`1.5` a float, `1e5` the string "1e5"), `NaN` and
`Infinity` strings. A text the fast path does not take (not JSON, a duplicate key, a top level
that is not an object or a List of objects, nesting deeper than the YAML reader allows, a
character YAML refuses) gives None: the caller reads it as YAML, whose errors name the line.
"""

from __future__ import annotations

import json
import json.scanner
import re
from dataclasses import dataclass
from typing import Any

from .yaml_source import MAX_DEPTH, LDict, YAMLSyntaxError, parse_documents, plain_scalar

_WHITESPACE = " \t\n\r"
# Every byte but the four brackets, deleted to see how the text nests.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\{\}|\[\]")
# What the YAML reader reads otherwise than JSON does: characters a YAML stream may not hold
# (PyYAML's Reader.NON_PRINTABLE), even in strings; line breaks JSON does not count as such (NEL,
# LS, PS, a lone CR), which YAML folds inside strings and counts as lines.
_NOT_LIKE_YAML = re.compile("[^\x09\x0A\x0D\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
                            "|\r(?!\n)")
_PRINTABLE_ASCII = b"\t\n\r" + bytes(range(0x20, 0x7F))  # deleted: what is left is refused
_LONE_CR = re.compile("\r(?!\n)")


class _NotTaken(Exception):
    """The text is not one the fast path takes; the YAML reader reads it instead."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Called by the C scanner for every object: a duplicate key is refused, as the YAML reader does.
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _NotTaken
    return value


# One decoder for every text: it keeps no state between calls.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_float=plain_scalar, parse_constant=str)
_SCAN = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]  # the C scanner (_json.Scanner)


@dataclass(frozen=True, slots=True)
class JsonObject:
    """One object of a JSON text: its value, its 1-based line, and where its text is."""

    value: dict[str, Any]
    line: int
    start: int  # offset of its "{"
    end: int  # offset just past its "}"


@dataclass(frozen=True, slots=True)
class JsonDocument:
    """A JSON text read by the fast path: its top-level value and the objects it holds."""

    value: dict[str, Any]
    listed: bool  # a `kind: List` (or FooList with items): `objects` are its items
    objects: list[JsonObject]


def _skip(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WHITESPACE:
        i += 1
    return i


def _scan(text: str, i: int) -> tuple[Any, int]:
    try:
        return _SCAN(text, i)
    except (StopIteration, ValueError, RecursionError, YAMLSyntaxError):
        raise _NotTaken from None


def _expect(text: str, i: int, char: str) -> int:
    if i >= len(text) or text[i] != char:
        raise _NotTaken
    return i + 1


def _array_items(text: str, i: int) -> tuple[list[tuple[Any, int, int]], int]:
    """The items of the array starting at `i` ("["), each with its start and end; and the end."""
    items: list[tuple[Any, int, int]] = []
    i = _skip(text, i + 1)
    if text.startswith("]", i):
        return items, i + 1
    while True:
        start = i
        value, i = _scan(text, start)
        items.append((value, start, i))
        i = _skip(text, i)
        if text.startswith("]", i):
            return items, i + 1
        i = _skip(text, _expect(text, i, ","))


def _top(text: str) -> tuple[dict[str, Any], int, int, dict[str, list[tuple[Any, int, int]]]]:
    """The top-level object, where it starts and ends, and the items (with their offsets) of
    each of its keys whose value is an array."""
    start = i = _skip(text, 0)
    i = _skip(text, _expect(text, i, "{"))
    pairs: list[tuple[str, Any]] = []
    arrays: dict[str, list[tuple[Any, int, int]]] = {}
    if not text.startswith("}", i):
        while True:
            key, i = _scan(text, i)
            if not isinstance(key, str):
                raise _NotTaken
            i = _skip(text, _expect(text, _skip(text, i), ":"))
            if text.startswith("[", i):
                items, i = _array_items(text, i)
                arrays[key] = items
                pairs.append((key, [v for v, _, _ in items]))
            else:
                value, i = _scan(text, i)
                pairs.append((key, value))
            i = _skip(text, i)
            if text.startswith("}", i):
                break
            i = _skip(text, _expect(text, i, ","))
    end = i + 1
    if _skip(text, end) != len(text):
        raise _NotTaken  # more than one value: not JSON (the YAML reader says what it is)
    return _unique_keys(pairs), start, end, arrays


def _reads_like_yaml(text: str) -> bool:
    """Whether the YAML reader would read `text` as JSON does (no character it refuses or counts
    as a line break where JSON does not): checked in C, an ASCII text with a byte table."""
    if not text.isascii():
        return not _NOT_LIKE_YAML.search(text)
    if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
        return False  # a control character
    return "\r" not in text or not _LONE_CR.search(text)


def _nests_within(text: str, depth: int) -> bool:
    """Whether the brackets of `text` nest at most `depth` deep, as the YAML reader allows.

    Brackets only, at C speed: each pass of the regular expression removes the innermost
    level. Brackets inside strings count too, so a text whose strings hold some may be sent to
    the YAML reader for nothing; and strings could only hide a level by holding closing
    brackets before opening ones. The C scanner refuses nesting past the recursion limit anyway.
    """
    brackets = text.encode("utf-8").translate(None, _NOT_BRACKETS)
    for _ in range(depth):
        if not brackets:
            return True
        brackets = _INNERMOST.sub(b"", brackets)
    return not brackets


def parse_json(text: str) -> JsonDocument | None:
    """The objects of a JSON text with their lines, or None when the fast path does not take it
    (the text is then read as YAML, which reports whatever is wrong with it)."""
    if not _reads_like_yaml(text) or not _nests_within(text, MAX_DEPTH):
        return None
    try:
        value, start, end, arrays = _top(text)
    except _NotTaken:
        return None
    kind = value.get("kind")
    listed = kind == "List" or (isinstance(kind, str) and kind.endswith("List") and "items" in value)
    if not listed:
        return JsonDocument(value, False, [JsonObject(value, text.count("\n", 0, start) + 1, start, end)])
    if value.get("items") is None:
        return JsonDocument(value, True, [])
    items = arrays.get("items")
    if items is None or not all(isinstance(item, dict) for item, _, _ in items):
        return None  # items that are not objects: the YAML reader's errors name their lines
    objects: list[JsonObject] = []
    line, counted = 1, 0
    for item, item_start, item_end in items:
        line += text.count("\n", counted, item_start)
        counted = item_start
        objects.append(JsonObject(item, line, item_start, item_end))
    return JsonDocument(value, True, objects)


def located(text: str, obj: JsonObject) -> LDict | None:
    """`obj` read again from its text with the line of every field (the YAML reader's LDict),
    or None when the YAML reader cannot read that text (the fast path's values are kept)."""
    try:
        docs = parse_documents(text[obj.start:obj.end], first_line=obj.line)
    except YAMLSyntaxError:
        return None
    if len(docs) != 1 or not isinstance(docs[0].value, LDict):  # pragma: no cover - it was one object
        return None
    return docs[0].value
