"""A change set: what a provider hands the control plane each time its inputs move."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..resources.meta import ObjectKey


class ChangeSet:
    """Objects to insert or replace, and keys to delete: at most one change per key, in the
    order they were last made."""

    __slots__ = ("_deletes", "_upserts")

    def __init__(self, upserts: Iterable[Any] = (), deletes: Iterable[ObjectKey] = ()) -> None:
        # Dicts, so that folding in a later change costs what that change holds, not what
        # this set already holds (the initial load folds in every file).
        self._upserts: dict[ObjectKey, Any] = {}
        self._deletes: dict[ObjectKey, None] = {}
        for obj in upserts:
            self.upsert(obj)
        for key in deletes:
            self.delete(key)

    @property
    def upserts(self) -> list[Any]:
        """The objects to insert or replace."""
        return list(self._upserts.values())

    @property
    def deletes(self) -> list[ObjectKey]:
        """The keys to delete."""
        return list(self._deletes)

    def upsert(self, obj: Any, key: ObjectKey | None = None) -> None:
        """Insert or replace `obj` (whose key is `key` when given), superseding any earlier
        change to its key."""
        key = key or ObjectKey.of(obj)
        if self._deletes:
            self._deletes.pop(key, None)
        if self._upserts:
            self._upserts.pop(key, None)  # re-inserted at the end: the latest change comes last
        self._upserts[key] = obj

    def delete(self, key: ObjectKey) -> None:
        """Delete `key`, superseding any earlier change to it."""
        self._upserts.pop(key, None)
        self._deletes.pop(key, None)
        self._deletes[key] = None

    def __bool__(self) -> bool:
        return bool(self._upserts or self._deletes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChangeSet):
            return NotImplemented
        return self.upserts == other.upserts and self.deletes == other.deletes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ChangeSet(upserts={self.upserts!r}, deletes={self.deletes!r})"

    def merge(self, other: ChangeSet) -> None:
        """Fold a later change set into this one."""
        for obj in other._upserts.values():
            self.upsert(obj)
        for key in other._deletes:
            self.delete(key)
