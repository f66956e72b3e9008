"""The file provider: resources from YAML/JSON files, reloaded file by file as they change.

A file that turns invalid keeps serving the last good version of its objects: an object that
fails validation, or vanishes from a file that now has errors, stays as it was; its error is
reported. Only a file that loads cleanly (or is deleted) removes objects.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..resources.errors import InputError, duplicate_error
from ..resources.loader import Rejected, find_files, is_resource_file, load_file
from ..resources.meta import ObjectKey

log = logging.getLogger("meshgate.files")


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

    def upsert(self, obj: Any) -> None:
        """Insert or replace `obj`, superseding any earlier change to its key."""
        key = ObjectKey.of(obj)
        self._deletes.pop(key, None)
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


def _normal(path: Path) -> Path:
    """One spelling per file, whether it came from the initial scan or from the watcher:
    relative to the working directory when below it (shorter error messages), else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd())
    except ValueError:
        return resolved


def _stamp(path: Path) -> tuple[int, ...]:
    # ctime and inode too: a copy that keeps the old mtime (cp -p) still changes them.
    try:
        st = path.stat()
    except OSError:
        return (-1,)
    return (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)


@dataclass(slots=True)
class _FileState:
    objects: dict[ObjectKey, Any] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class FileProvider:
    """Tracks the objects each file holds, and turns file changes into change sets."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.paths = [Path(p) for p in paths]
        self._files: dict[Path, _FileState] = {}
        self._owner: dict[ObjectKey, Path] = {}  # which file an object's live version comes from
        self._path_errors: list[InputError] = []
        self._stamps: dict[Path, tuple[int, ...]] = {}  # (mtime, size, ctime, inode) of each file when last read

    # -- queries ----------------------------------------------------------------------------
    @property
    def errors(self) -> list[InputError]:
        """Every current problem, file by file."""
        out = list(self._path_errors)
        for path in sorted(self._files):
            out.extend(self._files[path].errors)
        return out

    @property
    def rejected(self) -> list[Rejected]:
        """Objects currently failing validation (for their status)."""
        return [r for path in sorted(self._files) for r in self._files[path].rejected]

    # -- loading ----------------------------------------------------------------------------
    def load_all(self) -> ChangeSet:
        """The initial load of every file under the paths."""
        files, self._path_errors = find_files(self.paths)
        changes = ChangeSet()
        for path in files:
            changes.merge(self.reload(path))
        return changes

    def reload(self, path: Path) -> ChangeSet:
        """Re-read one file (or forget it when it is gone); what changed in the store's view."""
        path = _normal(path)
        old = self._files.get(path, _FileState())
        if not path.is_file():
            self._files.pop(path, None)
            self._stamps.pop(path, None)
            gone = [k for k in old.objects if self._owner.get(k) == path]
            for k in gone:
                del self._owner[k]
            return ChangeSet(deletes=gone)
        self._stamps[path] = _stamp(path)
        result = load_file(path)
        state = _FileState(errors=list(result.errors), rejected=list(result.rejected))
        changes = ChangeSet()
        for obj in result.objects:
            key = ObjectKey.of(obj)
            first = state.objects.get(key)  # earlier in this file: the first wins, as in Store.add_all
            if first is None:
                owner = self._owner.get(key)
                if owner is not None and owner != path:
                    first = self._files[owner].objects[key]
            if first is not None:
                state.errors.append(duplicate_error(obj, first))
                continue
            state.objects[key] = obj
            self._owner[key] = path
            if old.objects.get(key) != obj:
                changes.upsert(obj)
        for key, obj in old.objects.items():
            if key in state.objects or self._owner.get(key) != path:
                continue
            if result.failed:
                # The file has errors: an object that is now invalid, or unreadable, keeps its
                # last good version rather than disappearing.
                state.objects[key] = obj
                log.warning("%s: keeping the last good version of %s", path, key)
                continue
            del self._owner[key]
            changes.delete(key)
        self._files[path] = state
        return changes

    def resync(self) -> ChangeSet:
        """Re-read the files that appeared, vanished or changed (mtime, size, ctime, inode) since last read."""
        files, self._path_errors = find_files(self.paths)
        now = {_normal(f) for f in files}
        changes = ChangeSet()
        for path in sorted(now | self._files.keys()):
            if path not in now or self._stamps.get(path) != _stamp(path):
                changes.merge(self.reload(path))
        return changes

    async def watch(self) -> AsyncIterator[ChangeSet]:
        """Change sets as files under the paths change (until cancelled).

        Files changed between the initial load and the moment the watcher is in place would go
        unseen, so the first wake-up (a change, or the first timeout) also re-reads those.
        """
        from watchfiles import awatch

        watched = [p for p in self.paths if p.exists()]
        started = False
        async for batch in awatch(*watched, debounce=50, step=20, recursive=True,
                                  rust_timeout=500, yield_on_timeout=True):
            changes = ChangeSet()
            if not started:
                started = True
                changes.merge(self.resync())
            if not batch and not changes:
                continue
            for _, name in sorted(batch, key=lambda c: c[1]):
                # The files the initial load would have read, and no others.
                if any(is_resource_file(name, root) for root in watched):
                    changes.merge(self.reload(Path(name)))  # a deleted file reloads as "gone"
            yield changes
