"""Helpers shared by the resources-layer tests."""

from __future__ import annotations

from meshgate.resources.errors import InputError
from meshgate.resources.loader import LoadResult

CREATED = "2026-01-01T00:00:00Z"


def errors_of(result: LoadResult) -> list[InputError]:
    """The errors (not warnings) of a load."""
    return [e for e in result.errors if e.severity == "error"]


def warnings_of(result: LoadResult) -> list[InputError]:
    """The warnings of a load."""
    return [e for e in result.errors if e.severity == "warning"]


def ident(obj) -> str:
    """`Kind ns/name`, or `Kind name` for a cluster-scoped object."""
    m = obj.meta
    return f"{obj.kind} {m.namespace}/{m.name}" if m.namespace else f"{obj.kind} {m.name}"
