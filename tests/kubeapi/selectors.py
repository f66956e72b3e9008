"""Label and field selectors as list and watch take them (`labelSelector=app=web,tier in (a,b)`,
`fieldSelector=metadata.name=x`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_NUM = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(<|>)\s*(-?\d+)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One clause: key, operator (=, !=, in, notin, exists, !, <, >) and values."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a label set satisfies this clause."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or value is None or not re.fullmatch(r"-?\d+", value):
            return False
        return int(value) < int(self.values[0]) if self.op == "<" else int(value) > int(self.values[0])


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    """The requirements of a labelSelector query parameter (empty: everything matches)."""
    reqs = []
    for part in _split(text or ""):
        if m := _EQ.match(part):
            reqs.append(Requirement(m[1], "!=" if m[2] == "!=" else "=", (m[3],)))
        elif m := _NUM.match(part):
            reqs.append(Requirement(m[1], m[2], (m[3],)))
        elif (m := _SET.match(part)) and not (m[1] and m[3]):
            if m[3]:
                values = tuple(v.strip() for v in m[4].split(",") if v.strip())
                reqs.append(Requirement(m[2], m[3], values))
            else:
                reqs.append(Requirement(m[2], "!" if m[1] else "exists"))
        else:
            raise ApiError("BadRequest", f"unable to parse requirement: {part.strip()!r}")
    return reqs


# The fields every resource can be selected by; the real server adds a few per kind (e.g.
# spec.nodeName for Pods), which the emulator also serves when the object has them.
_FIELD = re.compile(r"^\s*([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*?)\s*$")


def parse_field_selector(text: str | None) -> list[tuple[str, bool, str]]:
    """(field path, equal?, value) clauses of a fieldSelector query parameter."""
    clauses = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        m = _FIELD.match(part)
        if not m:
            raise ApiError("BadRequest", f"invalid selector: {part.strip()!r}")
        clauses.append((m[1], m[2] != "!=", m[3]))
    return clauses


def _field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for step in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(step)
    return "" if node is None else str(node)


@dataclass(frozen=True)
class Selector:
    """A request's label and field selectors together."""

    labels: tuple[Requirement, ...] = ()
    fields: tuple[tuple[str, bool, str], ...] = ()

    @classmethod
    def parse(cls, label_selector: str | None, field_selector: str | None) -> Selector:
        """Both selectors of a query; a malformed one is a 400 BadRequest."""
        return cls(tuple(parse_label_selector(label_selector)), tuple(parse_field_selector(field_selector)))

    def matches(self, obj: dict[str, Any] | None) -> bool:
        """Whether an object is selected (None, an absent object, never is)."""
        if obj is None:
            return False
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if not all(req.matches(labels) for req in self.labels):
            return False
        return all((_field_value(obj, path) == value) == equal for path, equal, value in self.fields)
