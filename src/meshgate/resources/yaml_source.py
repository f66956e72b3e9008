"""YAML (and JSON) documents with line numbers, parsed by libyaml.

PyYAML's C parser (libyaml) produces the events; we build plain Python values from them ourselves
so that every mapping and sequence remembers the line of each of its entries. Aliases are expanded
with a budget, so a "billion laughs" document is refused instead of eating the machine, and
nesting is bounded without recursion, so a deeply nested document cannot overflow the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

try:  # The C loader is an install requirement; fall back only so errors stay readable.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# How many nodes alias expansion may add to one document. Real manifests use aliases sparingly.
ALIAS_EXPANSION_BUDGET = 10_000


class LDict(dict):
    """A mapping from a YAML document; `line` is its own line, `key_lines` each key's (1-based)."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict = {}


class LList(list):
    """A sequence from a YAML document; `line` is its own line, `item_lines` each item's (1-based)."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class YAMLSyntaxError(Exception):
    """A document could not be parsed; `line` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its value and the 1-based line it starts on."""

    value: object
    line: int


_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"

# How deeply collections may nest. Documents are built from parser events without recursion,
# so this bounds the work downstream, not our stack.
MAX_DEPTH = 200

# Scalar constructors only (they keep no state between calls).
_SCALARS = yaml.constructor.SafeConstructor()
_SCALAR_TYPES = {_BOOL: ("boolean", _SCALARS.construct_yaml_bool),
                 _INT: ("integer", _SCALARS.construct_yaml_int),
                 _FLOAT: ("number", _SCALARS.construct_yaml_float)}

_NO_KEY = object()
# The event classes, compared by identity in the builder's loop (CParser makes exactly these).
_ScalarEvent = yaml.ScalarEvent
_AliasEvent = yaml.AliasEvent
_MappingStartEvent = yaml.MappingStartEvent
_SequenceStartEvent = yaml.SequenceStartEvent
_MappingEndEvent = yaml.MappingEndEvent
_SequenceEndEvent = yaml.SequenceEndEvent
_DocumentEndEvent = yaml.DocumentEndEvent
# Where a YAML document starts: its directives (%YAML, %TAG) if any, then "---" at column 0
# followed by a space, a line break or the end of the text.
_DOCUMENT_START = re.compile(r"^(?:%[^\n]*\n)*---(?=[ \t\r\n]|\Z)", re.MULTILINE)


class _Frame:
    """An open mapping or sequence while its document is being built."""

    __slots__ = ("anchor", "key", "key_line", "size", "value")

    def __init__(self, value: LDict | LList, anchor: str | None) -> None:
        self.value = value
        self.anchor = anchor
        self.size = 1  # nodes in this subtree, counting aliases as what they expand to
        self.key: object = _NO_KEY
        self.key_line = 0


def _build_document(loader: _Loader, offset: int) -> Document:
    """Build the document whose DocumentStartEvent was just consumed, from parser events.

    Building from events rather than from composed nodes needs no recursion (libyaml's composer
    recurses in C and overflows the stack on a deeply nested document) and lets alias
    expansion be charged exactly once per alias. `offset` is added to every line.

    This loop runs once per event (about 80 per Kubernetes object), so it is written for speed:
    events are told apart by their exact class, the tag of a plain scalar is resolved once per
    distinct text (resolution tries regular expressions) and a typed scalar is built once per
    distinct text.
    """
    anchors: dict[str, tuple[object, int]] = {}  # finished anchors: value and its size
    open_anchors: set[str] = set()  # anchors on collections still being built
    budget = ALIAS_EXPANSION_BUDGET
    stack: list[_Frame] = []
    root: object = None
    root_line = 0
    get_event = loader.get_event
    resolvers = loader.yaml_implicit_resolvers
    plain_values: dict[str, tuple[object, bool]] = {}  # a plain scalar's text: (value, is merge key)
    while True:
        # Any: events are told apart by exact class below, which mypy cannot follow.
        event: Any = get_event()
        if event is None:  # pragma: no cover - libyaml ends what it starts
            raise YAMLSyntaxError(root_line or offset + 1, "invalid YAML: the stream ends inside a document")
        cls = type(event)
        if cls is _ScalarEvent:
            # The most common event, attached here without the generic path below; its line is
            # only worked out where it is kept (a key, a list item, a root).
            tag = event.tag
            if tag is None and event.implicit[0]:  # plain: its tag depends on its text
                text = event.value
                known = plain_values.get(text)
                if known is None:
                    if text and text[0] not in resolvers and None not in resolvers:
                        known = (text, False)  # no implicit type starts with this character
                    else:
                        known = _scalar(loader.resolve(yaml.ScalarNode, text, event.implicit), text,
                                        event.start_mark.line + 1 + offset)
                    plain_values[text] = known
                value, is_merge = known
            elif tag is None:  # quoted: a string
                value, is_merge = event.value, False
            else:
                if tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                value, is_merge = _scalar(tag, event.value, event.start_mark.line + 1 + offset)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
            if stack:
                parent = stack[-1]
                parent.size += 1
                container: Any = parent.value
                key = parent.key
                if key is not _NO_KEY:  # a mapping's value
                    container[key] = value
                    container.key_lines[key] = parent.key_line
                    parent.key = _NO_KEY
                elif type(container) is LList:
                    container.append(value)
                    container.item_lines.append(event.start_mark.line + 1 + offset)
                else:  # a mapping's key
                    line = event.start_mark.line + 1 + offset
                    if is_merge:
                        raise YAMLSyntaxError(line, "YAML merge keys (<<) are not supported")
                    if value in container:
                        raise YAMLSyntaxError(line, f"duplicate key {value!r}")
                    parent.key, parent.key_line = value, line
                continue
            size, line = 1, event.start_mark.line + 1 + offset
        elif cls is _MappingStartEvent or cls is _SequenceStartEvent:
            line = event.start_mark.line + 1 + offset
            if stack:
                parent = stack[-1]
                if parent.key is _NO_KEY and type(parent.value) is LDict:
                    raise YAMLSyntaxError(line, "mapping keys must be scalars")
                if len(stack) >= MAX_DEPTH:
                    raise YAMLSyntaxError(line, f"document nests deeper than {MAX_DEPTH} levels")
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append(_Frame(LDict(line) if cls is _MappingStartEvent else LList(line), event.anchor))
            continue
        elif cls is _MappingEndEvent or cls is _SequenceEndEvent:
            frame = stack.pop()
            value, size, line = frame.value, frame.size, frame.value.line
            is_merge = False
            if frame.anchor is not None:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (value, size)
        elif cls is _AliasEvent:
            line = event.start_mark.line + 1 + offset
            anchor = event.anchor
            if anchor in open_anchors:
                raise YAMLSyntaxError(line, "recursive YAML alias")
            if anchor not in anchors:
                raise YAMLSyntaxError(line, f"invalid YAML: found undefined alias {anchor!r}")
            value, size = anchors[anchor]
            is_merge = False
            budget -= size
            if budget < 0:
                raise YAMLSyntaxError(
                    line,
                    f"YAML aliases expand to more than {ALIAS_EXPANSION_BUDGET} nodes (refused as a possible YAML bomb)",
                )
        elif cls is _DocumentEndEvent:
            return Document(root, root_line)
        else:  # pragma: no cover - the parser emits nothing else inside a document
            raise YAMLSyntaxError(event.start_mark.line + 1 + offset, f"invalid YAML: unexpected {cls.__name__}")

        if not stack:
            root, root_line = value, line
            continue
        parent = stack[-1]
        parent.size += size
        container = parent.value
        if type(container) is LList:
            container.append(value)
            container.item_lines.append(line)
        elif parent.key is _NO_KEY:
            if is_merge:
                raise YAMLSyntaxError(line, "YAML merge keys (<<) are not supported")
            if isinstance(value, (dict, list)):
                raise YAMLSyntaxError(line, "mapping keys must be scalars")
            if value in container:
                raise YAMLSyntaxError(line, f"duplicate key {value!r}")
            parent.key, parent.key_line = value, line
        else:
            container[parent.key] = value
            container.key_lines[parent.key] = parent.key_line
            parent.key = _NO_KEY


def _scalar(tag: str, text: str, line: int) -> tuple[object, bool]:
    """The value of a scalar of `tag` written `text`, and whether it is a merge key (<<)."""
    if tag == _NULL:
        return None, False
    typed = _SCALAR_TYPES.get(tag)
    if typed is None:
        # Strings, and any other tag (timestamps, binary, merge keys), are kept as their
        # text: Kubernetes objects are JSON, where such values can only be strings.
        return text, tag == _MERGE
    type_name, construct = typed
    try:
        return construct(yaml.ScalarNode(tag, text)), False
    except (ValueError, KeyError, TypeError):
        raise YAMLSyntaxError(line, f"invalid {type_name} {text!r} for tag {tag}") from None


def _parse(text: str, offset: int) -> list[Document]:
    return list(_iter_parse(text, offset))


def _iter_parse(text: str, offset: int) -> Iterator[Document]:
    loader = _Loader(text)
    try:
        loader.get_event()  # StreamStart
        while not loader.check_event(yaml.StreamEndEvent):
            loader.get_event()  # DocumentStart
            yield _build_document(loader, offset)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark is not None else offset + 1
        problem = str(exc.problem or exc.context)
        if "nesting depth" in problem:
            # libyaml's own limit (PyYAML >= 6.0.3) can stop a document before ours does: one
            # wording for the same problem, whichever limit is reached first.
            raise YAMLSyntaxError(line, f"document nests deeper than {MAX_DEPTH} levels") from None
        raise YAMLSyntaxError(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YAMLSyntaxError(offset + 1, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def iter_documents(text: str) -> Iterator[Document]:
    """Documents one at a time, so that only one document's tree need be alive at once.

    Raises YAMLSyntaxError (after yielding the documents before it) when the text is malformed.
    """
    return _iter_parse(text, 0)


def parse_documents(text: str, first_line: int = 1) -> list[Document]:
    """Parse a multi-document YAML (or JSON) text into documents with line numbers, the text's
    first line being `first_line` (a part of a larger text is given the line it starts on).

    Raises YAMLSyntaxError for malformed text, duplicate keys, or runaway alias expansion.
    """
    return _parse(text, first_line - 1)


# Resolves tags only (it keeps no state between calls).
_RESOLVER = yaml.resolver.Resolver()


def plain_scalar(text: str) -> object:
    """The value of a plain (unquoted) scalar written `text`, as a document would hold it:
    `1.5` a float, `1e5` the string "1e5" (YAML 1.1 wants a dot and a signed exponent)."""
    value, _ = _scalar(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)), text, 0)
    return value


def parse_stream(text: str) -> tuple[list[Document], list[YAMLSyntaxError]]:
    """Like parse_documents, but a broken document costs only itself.

    When the text does not parse, each part between "---" lines is parsed on its own, so the
    good documents around a bad one still load; each bad part gives one error.
    """
    try:
        return _parse(text, 0), []
    except YAMLSyntaxError:
        return parse_sections(text)


def parse_sections(text: str) -> tuple[list[Document], list[YAMLSyntaxError]]:
    """Each part of the text between "---" lines parsed on its own: documents and errors."""
    docs: list[Document] = []
    errors: list[YAMLSyntaxError] = []
    starts = [0] + [m.start() for m in _DOCUMENT_START.finditer(text) if m.start() > 0]
    offset = 0
    previous = 0
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        offset += text.count("\n", previous, begin)
        previous = begin
        try:
            docs.extend(_parse(text[begin:end], offset))
        except YAMLSyntaxError as exc:
            errors.append(exc)
    return docs, errors
