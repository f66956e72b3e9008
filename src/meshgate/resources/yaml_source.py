"""YAML (and JSON) documents with line numbers, parsed by libyaml.

PyYAML's C parser composes the node graph; we construct plain Python values from it ourselves so
that every mapping and sequence remembers the line of each of its entries. Aliases are expanded
with a budget, so a "billion laughs" document is refused instead of eating the machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

try:  # The C loader is an install requirement; fall back only so errors stay readable.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# How many nodes alias expansion may add to one document. Real manifests use aliases sparingly.
ALIAS_EXPANSION_BUDGET = 10_000


class LDict(dict):
    """A mapping from a YAML document; `line` is its own line, `key_lines` each key's (1-based)."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict = {}


class LList(list):
    """A sequence from a YAML document; `line` is its own line, `item_lines` each item's (1-based)."""

    __slots__ = ("line", "item_lines")

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


class _Constructor:
    """Builds LDict/LList/scalars from composed nodes, counting alias expansion."""

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._budget = ALIAS_EXPANSION_BUDGET
        self._scalars = yaml.SafeLoader("")  # only for its scalar constructors

    def build(self, node: yaml.Node, depth: int = 0) -> object:
        if id(node) in self._seen:
            # A second visit is an alias: charge its size against the budget.
            self._charge(node, set())
        else:
            self._seen.add(id(node))
        if depth > 200:
            raise YAMLSyntaxError(node.start_mark.line + 1, "document nests deeper than 200 levels")
        if isinstance(node, yaml.MappingNode):
            out = LDict(node.start_mark.line + 1)
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise YAMLSyntaxError(key_node.start_mark.line + 1, "YAML merge keys (<<) are not supported")
                key = self.build(key_node, depth + 1)
                if isinstance(key, (dict, list)):
                    raise YAMLSyntaxError(key_node.start_mark.line + 1, "mapping keys must be scalars")
                if key in out:
                    raise YAMLSyntaxError(key_node.start_mark.line + 1, f"duplicate key {key!r}")
                out[key] = self.build(value_node, depth + 1)
                out.key_lines[key] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            seq = LList(node.start_mark.line + 1)
            for item in node.value:
                seq.append(self.build(item, depth + 1))
                seq.item_lines.append(item.start_mark.line + 1)
            return seq
        return self._scalar(node)

    def _charge(self, node: yaml.Node, stack: set[int]) -> None:
        if id(node) in stack:
            raise YAMLSyntaxError(node.start_mark.line + 1, "recursive YAML alias")
        self._budget -= 1
        if self._budget < 0:
            raise YAMLSyntaxError(
                node.start_mark.line + 1,
                f"YAML aliases expand to more than {ALIAS_EXPANSION_BUDGET} nodes (refused as a possible YAML bomb)",
            )
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            stack.add(id(node))
            children = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            for child in children:
                self._charge(child, stack)
            stack.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode) -> object:
        tag = node.tag
        if tag == _BOOL:
            return self._scalars.construct_yaml_bool(node)
        if tag == _INT:
            return self._scalars.construct_yaml_int(node)
        if tag == _FLOAT:
            return self._scalars.construct_yaml_float(node)
        if tag == _NULL:
            return None
        # Strings, and any other tag (timestamps, binary), are kept as their text: Kubernetes
        # objects are JSON, where such values can only be strings.
        return node.value


def parse_documents(text: str) -> list[Document]:
    """Parse a multi-document YAML (or JSON) text into documents with line numbers.

    Raises YAMLSyntaxError for malformed text, duplicate keys, or runaway alias expansion.
    """
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            docs.append(Document(_Constructor().build(node), node.start_mark.line + 1))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YAMLSyntaxError(line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YAMLSyntaxError(1, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YAMLSyntaxError(1, "document nests too deeply") from None
    finally:
        loader.dispose()
    return docs
