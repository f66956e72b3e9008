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

from ..resources.errors import InputError
from ..resources.loader import SUFFIXES, Rejected, find_files, load_file
from ..resources.meta import ObjectKey

log = logging.getLogger("meshgate.files")


@dataclass(slots=True)
class ChangeSet:
    """Objects to insert or replace, and keys to delete."""

    upserts: list[Any] = field(default_factory=list)
    deletes: list[ObjectKey] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes)

    def merge(self, other: ChangeSet) -> None:
        """Fold a later change set into this one."""
        later = {ObjectKey(o.kind, o.meta.namespace, o.meta.name) for o in other.upserts} | set(other.deletes)
        self.upserts = [o for o in self.upserts if ObjectKey(o.kind, o.meta.namespace, o.meta.name) not in later]
        self.deletes = [k for k in self.deletes if k not in later]
        self.upserts.extend(other.upserts)
        self.deletes.extend(other.deletes)


def _normal(path: Path) -> Path:
    """One spelling per file, whether it came from the initial scan or from the watcher:
    relative to the working directory when below it (shorter error messages), else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd())
    except ValueError:
        return resolved


def _key(obj: Any) -> ObjectKey:
    return ObjectKey(obj.kind, obj.meta.namespace, obj.meta.name)


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
            gone = [k for k in old.objects if self._owner.get(k) == path]
            for k in gone:
                del self._owner[k]
            return ChangeSet(deletes=gone)
        result = load_file(path)
        state = _FileState(errors=list(result.errors), rejected=list(result.rejected))
        failed = any(e.severity == "error" for e in result.errors)
        changes = ChangeSet()
        for obj in result.objects:
            key = _key(obj)
            owner = self._owner.get(key)
            if owner is not None and owner != path:
                first = self._files[owner].objects[key]
                state.errors.append(InputError(
                    str(path), obj.source.line,
                    f"duplicate {obj.kind}: already defined at {first.source.file}:{first.source.line}; this one is ignored",
                    "metadata.name", obj.kind, obj.meta.namespace, obj.meta.name))
                continue
            state.objects[key] = obj
            self._owner[key] = path
            if old.objects.get(key) != obj:
                changes.upserts.append(obj)
        for key, obj in old.objects.items():
            if key in state.objects or self._owner.get(key) != path:
                continue
            if failed:
                # The file has errors: an object that is now invalid, or unreadable, keeps its
                # last good version rather than disappearing.
                state.objects[key] = obj
                log.warning("%s: keeping the last good version of %s", path, key)
                continue
            del self._owner[key]
            changes.deletes.append(key)
        self._files[path] = state
        return changes

    async def watch(self) -> AsyncIterator[ChangeSet]:
        """Change sets as files under the paths change (until cancelled)."""
        from watchfiles import awatch

        watched = [str(p) for p in self.paths if p.exists()]
        async for batch in awatch(*watched, debounce=50, step=20, recursive=True):
            changes = ChangeSet()
            for _, name in sorted(batch, key=lambda c: c[1]):
                path = Path(name)
                if path.suffix in SUFFIXES and not path.name.startswith("."):
                    changes.merge(self.reload(path))  # a deleted file reloads as "gone"
            yield changes
