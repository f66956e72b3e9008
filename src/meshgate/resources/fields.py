"""Reading validated fields out of a document, with errors that name the field path and line.

A `Fields` wraps one mapping at a known path ("spec.rules[0]"); its getters check type and
constraints and record an InputError (and return None) instead of raising, so one pass reports
every problem with an object.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .yaml_source import LDict, LList


@dataclass(slots=True)
class ObjectContext:
    """Where one object came from, and the errors found in it so far."""

    file: str
    line: int
    kind: str = ""
    namespace: str = ""
    name: str = ""
    errors: list[InputError] = field(default_factory=list)

    def error(self, line: int, path: str, reason: str, severity: str = "error") -> None:
        """Record a problem at `path` (a field path such as spec.rules[0].matches)."""
        self.errors.append(
            InputError(self.file, line, reason, path, self.kind, self.namespace, self.name, severity)
        )

    @property
    def failed(self) -> bool:
        """True when an error (not a warning) was recorded."""
        return any(e.severity == "error" for e in self.errors)


# A validity check of one string value: the reason it is invalid, or None when it is valid.
Check = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class StrItem:
    """One valid item of a list of strings, with where it stands."""

    index: int
    value: str
    path: str
    line: int


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


class Fields:
    """Typed, validated access to one mapping of an object."""

    __slots__ = ("ctx", "data", "line", "path")

    def __init__(self, data: Mapping[str, Any], path: str, ctx: ObjectContext, line: int | None = None) -> None:
        self.data = data
        self.path = path
        self.ctx = ctx
        self.line = line if line is not None else getattr(data, "line", ctx.line)

    # -- locations -------------------------------------------------------------------------
    def sub(self, key: str) -> str:
        """The field path of `key` below this mapping."""
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int:
        """The line of `key` (or of this mapping when the key is absent or lines are unknown)."""
        lines = getattr(self.data, "key_lines", None)
        if lines and key in lines:
            return lines[key]
        return self.line

    def error(self, key: str | None, reason: str, severity: str = "error") -> None:
        """Record a problem with `key` (or with this mapping itself when key is None)."""
        if key is None:
            self.ctx.error(self.line, self.path, reason, severity)
        else:
            self.ctx.error(self.line_of(key), self.sub(key), reason, severity)

    def has(self, key: str) -> bool:
        """True when `key` is present and not null."""
        return self.data.get(key) is not None

    # -- scalars ---------------------------------------------------------------------------
    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            self.error(key, "required field is missing")
        return value

    def str(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        enum: tuple[str, ...] | frozenset[str] | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_hint: str = "",
        max_len: int | None = None,
        min_len: int = 0,
        check: Check | None = None,
    ) -> str | None:
        """A string field; `check` returns a reason when the value is invalid."""
        value = self.data.get(key)  # _get, inlined: the getter most called
        if value is None:
            if required:
                self.error(key, "required field is missing")
            return default
        if not isinstance(value, str):
            self.error(key, f"must be a string, got {_type_name(value)}")
            return None
        if len(value) < min_len:
            self.error(key, "must not be empty" if min_len == 1 else f"must be at least {min_len} characters")
            return None
        if max_len is not None and len(value) > max_len:
            self.error(key, f"must be at most {max_len} characters, got {len(value)}")
            return None
        if enum is not None and value not in enum:
            allowed = ", ".join(sorted(enum)) if isinstance(enum, frozenset) else ", ".join(enum)
            self.error(key, f"unsupported value {value!r}: must be one of {allowed}")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.error(key, f"invalid value {value!r}: {pattern_hint or 'must match ' + pattern.pattern}")
            return None
        if check is not None:
            reason = check(value)
            if reason:
                self.error(key, f"invalid value {value!r}: {reason}")
                return None
        return value

    def int(
        self,
        key: builtins.str,
        *,
        required: bool = False,
        default: int | None = None,
        min: int | None = None,
        max: int | None = None,
    ) -> int | None:
        """An integer field within [min, max]."""
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be an integer, got {_type_name(value)}")
            return None
        if (min is not None and value < min) or (max is not None and value > max):
            if max is None:
                self.error(key, f"must be at least {min}, got {value}")
            elif min is None:
                self.error(key, f"must be at most {max}, got {value}")
            else:
                self.error(key, f"must be between {min} and {max}, got {value}")
            return None
        return value

    def bool(self, key: builtins.str, *, default: builtins.bool | None = None) -> builtins.bool | None:
        """A boolean field."""
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be a boolean, got {_type_name(value)}")
            return None
        return value

    def int_or_str(self, key: builtins.str, *, required: builtins.bool = False) -> builtins.int | builtins.str | None:
        """An IntOrString field (Kubernetes targetPort)."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.error(key, f"must be an integer or a string, got {_type_name(value)}")
            return None
        return value

    # -- containers ------------------------------------------------------------------------
    def map(self, key: builtins.str, *, required: builtins.bool = False) -> Fields | None:
        """A nested mapping as Fields, or None when absent or not a mapping."""
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(key, f"must be a mapping, got {_type_name(value)}")
            return None
        line = getattr(value, "line", None)  # a mapping without lines (JSON) stands at its key's
        return Fields(value, self.sub(key), self.ctx, self.line_of(key) if line is None else line)

    def _list(
        self, key: builtins.str, required: builtins.bool, max_items: builtins.int | None, min_items: builtins.int
    ) -> list | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.error(key, f"must be a list, got {_type_name(value)}")
            return None
        if max_items is not None and len(value) > max_items:
            self.error(key, f"must have at most {max_items} items, got {len(value)}")
            return None
        if len(value) < min_items:
            self.error(key, f"must have at least {min_items} item{'s' if min_items > 1 else ''}")
            return None
        return value

    def item_line(self, seq: list, index: builtins.int) -> builtins.int:
        """The line of item `index` of `seq`."""
        lines = getattr(seq, "item_lines", None)
        if lines and index < len(lines):
            return lines[index]
        return getattr(seq, "line", self.line)

    def maps(
        self,
        key: builtins.str,
        *,
        required: builtins.bool = False,
        max_items: builtins.int | None = None,
        min_items: builtins.int = 0,
    ) -> Iterator[Fields]:
        """Each mapping item of a list field as Fields (non-mapping items are reported)."""
        seq = self._list(key, required, max_items, min_items)
        if not seq:
            return
        base = self.sub(key)
        for i, item in enumerate(seq):
            path = f"{base}[{i}]"
            if not isinstance(item, dict):
                self.ctx.error(self.item_line(seq, i), path, f"must be a mapping, got {_type_name(item)}")
                continue
            line = getattr(item, "line", None)
            yield Fields(item, path, self.ctx, self.item_line(seq, i) if line is None else line)

    def strs(
        self,
        key: builtins.str,
        *,
        required: builtins.bool = False,
        max_items: builtins.int | None = None,
        min_items: builtins.int = 0,
        check: Check | None = None,
        unique: builtins.bool = False,
    ) -> list[builtins.str] | None:
        """A list of strings; `check` returns a reason for an invalid item."""
        seq = self._list(key, required, max_items, min_items)
        if seq is None:
            return None
        out: list[str] = []
        seen: set[str] = set()
        # _string_items' checks, inlined: an item's path and line are worked out only for an error
        # (an EndpointSlice's addresses come by the hundred thousand).
        for i, item in enumerate(seq):
            if not isinstance(item, str):
                reason = f"must be a string, got {_type_name(item)}"
            elif check is not None and (invalid := check(item)):
                reason = f"invalid value {item!r}: {invalid}"
            elif unique and item in seen:
                reason = f"duplicate value {item!r}"
            else:
                seen.add(item)
                out.append(item)
                continue
            self.ctx.error(self.item_line(seq, i), f"{self.sub(key)}[{i}]", reason)
        return out

    def str_items(
        self, key: builtins.str, *, max_items: builtins.int | None = None, check: Check | None = None
    ) -> list[StrItem]:
        """The valid items of a list of strings with where each stands, for checks across items."""
        seq = self._list(key, False, max_items, 0)
        return [] if seq is None else list(self._string_items(key, seq, check))

    def _string_items(self, key: builtins.str, seq: list, check: Check | None) -> Iterator[StrItem]:
        # A generator, so that a caller's own per-item errors keep their place among these.
        base = self.sub(key)
        for i, item in enumerate(seq):
            path = f"{base}[{i}]"
            line = self.item_line(seq, i)
            if not isinstance(item, str):
                self.ctx.error(line, path, f"must be a string, got {_type_name(item)}")
                continue
            reason = check(item) if check else None
            if reason:
                self.ctx.error(line, path, f"invalid value {item!r}: {reason}")
                continue
            yield StrItem(i, item, path, line)

    def str_map(self, key: builtins.str, *, check_key: Check | None = None) -> dict[builtins.str, builtins.str]:
        """A map of string to string (labels, annotations, selectors)."""
        sub = self.map(key)
        return {} if sub is None else sub.as_str_map(check_key=check_key)

    def as_str_map(self, *, check_key: Check | None = None) -> dict[builtins.str, builtins.str]:
        """This mapping read as string to string; other keys and values are reported and dropped."""
        out: dict[str, str] = {}
        for k, v in self.data.items():
            if not isinstance(k, str):
                self.ctx.error(self.line_of(k), self.sub(str(k)), "keys must be strings")
                continue
            if check_key is not None:
                reason = check_key(k)
                if reason:
                    self.error(k, f"invalid key {k!r}: {reason}")
                    continue
            if v is None:
                v = ""
            if isinstance(v, bool) or not isinstance(v, str):
                # Kubernetes would refuse `app: 1` or `enabled: true`; quoting is required.
                self.error(k, f"must be a string, got {_type_name(v)} (quote the value)")
                continue
            out[k] = v
        return out


__all__ = ["Fields", "LDict", "LList", "ObjectContext"]
