"""Input errors: every problem with an input names its file, line, field and reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class InputError:
    """One problem with one input object (or a file that could not be read at all)."""

    file: str
    line: int
    reason: str
    field: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    severity: str = "error"  # "error" excludes the object; "warning" does not

    @property
    def object(self) -> str:
        """`Kind ns/name` (or `Kind name` for cluster-scoped kinds), empty when unknown."""
        if not self.kind:
            return ""
        ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {ident}".strip()

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file  # line 0: no line to name
        what = f" {self.object}" if self.object else ""
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{what}{field} {self.reason}"

    def to_dict(self) -> dict:
        """The JSON shape used in `meshgate translate` output."""
        d = {"severity": self.severity, "file": self.file, "line": self.line}
        if self.kind:
            d["kind"] = self.kind
            if self.namespace:
                d["namespace"] = self.namespace
            d["name"] = self.name
        if self.field:
            d["field"] = self.field
        d["reason"] = self.reason
        d["message"] = str(self)
        return d


def duplicate_error(obj: Any, first: Any) -> InputError:
    """The error for `obj`, refused because `first` (same kind, namespace and name) came before it."""
    return InputError(
        obj.source.file, obj.source.line,
        f"duplicate {obj.kind}: already defined at {first.source}; this one is ignored",
        "metadata.name", obj.kind, obj.meta.namespace, obj.meta.name,
    )
