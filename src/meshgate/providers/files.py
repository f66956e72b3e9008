"""The file provider: resources from YAML/JSON files, reloaded file by file as they change.

What is served never depends on the order in which changes arrive: for each object (kind,
namespace, name) the definition in the first file in the initial scan's order wins (then the
first in that file), the others are reported as duplicates naming where it is, and a file's
removal or edit re-admits the next one. So a rename, a move, or the deletion of the first of two
copies swaps which file an object comes from in one change set, and the result of any sequence
of edits is what a fresh load of the same tree gives, except for one rule: a file that turns
invalid keeps serving the last good version of its objects (an object that fails validation, or
vanishes from a file that now has errors, stays as it was; its error is reported). Only a file
that loads cleanly, or is deleted, removes objects.

The provider also fills in what an API server would (api_fields): a new version of an object
keeps the uid and creationTimestamp of the one served before, and its generation goes up by one
when its spec changed; a version equal to the one served is no change.

The watcher (watchfiles) reloads the files it names; any other event (a directory, a dot-entry
such as a ConfigMap mount's `..data` swap, a deletion that may be half of a move) rescans the
tree by stat. Files are read and parsed in a worker thread, so the event loop keeps serving
xDS and the debug endpoint meanwhile. Should watching fail, the watcher reports it, rescans
every POLL_S seconds and tries again with a bounded backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..memory import give_back_memory
from ..resources.errors import InputError, duplicate_error
from ..resources.loader import InputLimits, LoadResult, Rejected, find_files, load_file, reached_by_scan, scan_key
from ..resources.meta import ObjectKey
from .api_fields import as_updated
from .changes import ChangeSet

__all__ = ["ChangeSet", "FileProvider"]

log = logging.getLogger("meshgate.files")

# How long the watcher waits for a quiet moment before it reports a batch of file events: short,
# since the controller batches bursts itself (a lone change is applied at once).
STEP_MS = 5
POLL_S = 1.0  # rescans by stat while the watcher is down
RETRY_MIN_S = 0.5  # the watcher's first restart comes this long after it failed...
RETRY_MAX_S = 10.0  # ... doubling up to this
BIG_READ_BYTES = 1 << 20  # after reading this much at once, memory is handed back


def _normal(path: str | os.PathLike[str]) -> Path:
    """One spelling per file, whether it came from the initial scan or from the watcher:
    absolute, symlinks not resolved (a ConfigMap's `x.yaml` stays `x.yaml` while `..data` moves
    under it), and relative to the working directory when below it (shorter error messages)."""
    spelled = os.path.abspath(path)
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed
        return Path(spelled)
    if spelled.startswith(cwd.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(spelled, cwd))
    return Path(spelled)


def _stamp(path: Path) -> tuple[int, ...]:
    # ctime and inode too: a copy that keeps the old mtime (cp -p) still changes them. stat()
    # follows symlinks, so a ConfigMap's `..data` swap changes the stamp of every file in it.
    try:
        st = path.stat()
    except OSError:
        return (-1,)
    return (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)


@dataclass(slots=True)
class _FileState:
    """What one file defines, as last read."""

    order: tuple  # where the initial scan reads this file (scan_key)
    stamp: tuple[int, ...]
    failed: bool  # it has errors: its last good objects are kept
    first: dict[ObjectKey, Any] = field(default_factory=dict)  # the first definition of each key, in file order
    later: dict[ObjectKey, list[Any]] = field(default_factory=dict)  # further definitions in the same file
    errors: list[InputError] = field(default_factory=list)  # its load errors (duplicates are computed)
    rejected: list[Rejected] = field(default_factory=list)

    @classmethod
    def of(cls, order: tuple, stamp: tuple[int, ...], result: LoadResult) -> _FileState:
        """A file's state from its load result."""
        state = cls(order, stamp, result.failed, errors=list(result.errors), rejected=list(result.rejected))
        for obj in result.objects:
            key = ObjectKey.of(obj)
            if key in state.first:
                state.later.setdefault(key, []).append(obj)
            else:
                state.first[key] = obj
        return state

    def definitions(self, key: ObjectKey) -> list[Any]:
        """Every definition of `key` in this file, in file order."""
        first = self.first.get(key)
        return [] if first is None else [first, *self.later.get(key, ())]


@dataclass(slots=True)
class _Read:
    """What reading one file gave (built in the worker thread): None when it is gone."""

    path: Path
    state: _FileState | None
    size: int = 0


@dataclass(slots=True)
class _Batch:
    """The reads of one batch, and the scan's path errors when it rescanned (else None)."""

    reads: list[_Read]
    path_errors: list[InputError] | None


class FileProvider:
    """Tracks the objects each file holds, and turns file changes into change sets."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]], limits: InputLimits | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        self.limits = limits or InputLimits()
        self._files: dict[Path, _FileState] = {}
        self._definers: dict[ObjectKey, tuple[Path, ...]] = {}  # the files defining each key
        # Each key's winning definition, with what the API server fills in: what the store holds.
        self._served: dict[ObjectKey, Any] = {}
        self._duplicates: dict[ObjectKey, list[InputError]] = {}  # keys with losing definitions
        self._path_errors: list[InputError] = []
        self._watch_errors: list[InputError] = []  # while the watcher is down
        self._errors: list[InputError] | None = None  # cache of `errors`

    # -- queries ----------------------------------------------------------------------------
    @property
    def errors(self) -> list[InputError]:
        """Every current problem, file by file in scan order."""
        if self._errors is None:
            dups: dict[str, list[InputError]] = {}
            for errs in self._duplicates.values():
                for e in errs:
                    dups.setdefault(e.file, []).append(e)
            out = list(self._path_errors)
            for path in self._in_order():
                out.extend(self._files[path].errors)
                out.extend(sorted(dups.get(str(path), ()), key=lambda e: e.line))
            self._errors = out
        return self._errors + self._watch_errors

    @property
    def rejected(self) -> list[Rejected]:
        """Objects currently failing validation (for their status)."""
        return [r for path in self._in_order() for r in self._files[path].rejected]

    def _in_order(self) -> list[Path]:
        return sorted(self._files, key=lambda p: self._files[p].order)

    # -- loading ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Nothing to connect to: `load_all` reads the files."""

    async def stop(self) -> None:
        """Nothing held between reads (the watcher stops with `watch`)."""

    def load_all(self) -> ChangeSet:
        """The initial load of every file under the paths."""
        return self._commit(self._gather(set(), rescan=True))

    def reload(self, path: str | os.PathLike[str]) -> ChangeSet:
        """Re-read one file (or forget it when it is gone); what changed in the store's view."""
        return self._commit(self._gather({_normal(path)}, rescan=False))

    def resync(self) -> ChangeSet:
        """Re-read the files that appeared, vanished or changed (mtime, size, ctime, inode) since last read."""
        return self._commit(self._gather(set(), rescan=True))

    def apply_events(self, events: Iterable[tuple[Any, str]]) -> ChangeSet:
        """What a watcher batch of (watchfiles.Change, path) events changes, as one change set
        (what `watch` does with each batch, reading in this thread)."""
        return self._commit(self._gather_events(set(events), rescan=False))

    def _ours(self, path: Path) -> bool:
        """Whether the initial scan would read `path` as the disk is now."""
        return any(reached_by_scan(path, root) for root in self.paths)

    def _gather(self, named: set[Path], rescan: bool) -> _Batch:
        """Read what a batch needs (I/O only, no state changed: runs in a worker thread).

        `named` files are read whatever their stamp (a rewrite can keep it); with `rescan`, so
        are the files that appeared or whose stamp moved, and the files that vanished are gone.
        """
        read = {p for p in named if os.path.lexists(p) and self._ours(p)}
        gone = {p for p in named if p in self._files}
        path_errors = None
        if rescan:
            files, path_errors = find_files(self.paths)
            present = {_normal(f) for f in files}
            read |= {p for p in present if p not in self._files or self._files[p].stamp != _stamp(p)}
            gone |= self._files.keys() - present
        reads = [_Read(p, None) for p in sorted(gone - read)]
        total = 0
        for path in sorted(read):
            stamp = _stamp(path)
            size = stamp[1] if len(stamp) > 1 else 0
            order = scan_key(path, self.paths)
            order = order if order is not None else (len(self.paths), path.parts)
            reads.append(_Read(path, _FileState.of(order, stamp, load_file(path, limits=self.limits)), size))
            total += size
        if total >= BIG_READ_BYTES:
            give_back_memory()  # the parse's garbage is freed by now; hand its pages back
        return _Batch(reads, path_errors)

    def _commit(self, batch: _Batch) -> ChangeSet:
        """Apply a batch's reads to the state (on the event loop: fast), then decide the winner
        of every key they touched; what changed in the store's view, as one change set."""
        touched: dict[ObjectKey, None] = {}  # in file order, as a fresh load would upsert them
        definers = self._definers
        for r in batch.reads:
            path, state = r.path, r.state
            old = self._files.pop(path, None)
            if old is not None and state is not None and state.failed:
                # The file has errors: an object that is now invalid, or unreadable, keeps its
                # last good version rather than disappearing.
                for key, obj in old.first.items():
                    if key not in state.first:
                        state.first[key] = obj
                        if key in old.later:
                            state.later[key] = old.later[key]
                        log.warning("%s: keeping the last good version of %s", path, key)
            if old is not None:
                for key in old.first:
                    if state is None or key not in state.first:
                        files = definers[key]
                        if len(files) == 1:
                            del definers[key]
                        else:
                            definers[key] = tuple(f for f in files if f != path)
                touched.update(dict.fromkeys(old.first))
            if state is None:
                continue
            self._files[path] = state
            for key in state.first:
                if old is None or key not in old.first:
                    known = definers.get(key)
                    definers[key] = (path,) if known is None else (*known, path)
            touched.update(dict.fromkeys(state.first))
        if batch.path_errors is not None:
            self._path_errors = batch.path_errors
        self._errors = None
        changes = ChangeSet()
        for key in touched:
            winner = self._decide(key)
            before = self._served.get(key)
            if winner is None:
                if before is not None:
                    del self._served[key]
                    changes.delete(key)
            elif winner is not before:
                # An update, as the API server would store it: uid, creationTimestamp and
                # generation follow the version served before (the same object when equal).
                served = winner if before is None else as_updated(before, winner)
                if served is not before:
                    self._served[key] = served
                    changes.upsert(served, key)
        return changes

    def _decide(self, key: ObjectKey) -> Any:
        """The winning definition of `key` (None when no file defines it), recording the others
        as duplicates of it."""
        files = self._definers.get(key)
        if self._duplicates:
            self._duplicates.pop(key, None)
        if files is None:
            return None
        if len(files) == 1:  # the common case, kept cheap: a big file defines many keys
            state = self._files[files[0]]
            if not state.later or key not in state.later:
                return state.first[key]
        ordered = sorted(files, key=lambda p: self._files[p].order)
        defs = [obj for path in ordered for obj in self._files[path].definitions(key)]
        winner = defs[0]
        if len(defs) > 1:
            self._duplicates[key] = [duplicate_error(obj, winner) for obj in defs[1:]]
        return winner

    # -- watching ---------------------------------------------------------------------------
    async def _apply(self, batch: set[tuple[Any, str]], rescan: bool) -> ChangeSet | None:
        """Read in a worker thread, commit here; the change set, or None when neither objects
        nor errors changed."""
        before = self.errors
        changes = self._commit(await asyncio.to_thread(self._gather_events, batch, rescan))
        return changes if changes or self.errors != before else None

    def _gather_events(self, batch: set[tuple[Any, str]], rescan: bool) -> _Batch:
        """`_gather` for a watcher batch: the files it names, with a rescan when it holds any
        event on anything else (a directory, a dot-entry such as a ConfigMap's `..data`) or any
        deletion, which may be half of a move whose other half the watcher never saw (a file
        moved into a directory created a moment before)."""
        from watchfiles import Change

        named: set[Path] = set()
        for change, name in batch:
            if change == Change.deleted or not self._ours(Path(name)):
                rescan = True
            named.add(_normal(name))
        return self._gather(named, rescan)

    def _root_ids(self) -> list[tuple[int, int] | None]:
        """Which directory or file each path is now (device, inode), None when missing."""
        out: list[tuple[int, int] | None] = []
        for root in self.paths:
            try:
                st = root.stat()
                out.append((st.st_dev, st.st_ino))
            except OSError:
                out.append(None)
        return out

    def _report_watch_failure(self, exc: BaseException | None) -> None:
        if exc is None:
            self._watch_errors = []
            return
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # anyio's task group wraps it
            exc = exc.exceptions[0]
        reason = "symlink loop" if isinstance(exc, OSError) and exc.errno == errno.ELOOP else str(exc) or type(exc).__name__
        named = getattr(exc, "filename", None)
        files = [named] if isinstance(named, str) and os.path.lexists(named) else [
            str(_normal(r)) for r in self.paths if r.exists()]
        self._watch_errors = [InputError(f, 0, f"cannot watch for changes ({reason}): rescanning every {POLL_S:g} s")
                              for f in files]

    async def watch(self) -> AsyncIterator[ChangeSet]:
        """Change sets as files under the paths change (until cancelled); never fails.

        Files changed between the initial load and the moment the watcher is in place would go
        unseen, so the first wake-up (a change, or the first timeout) also rescans. A path that
        vanishes or is replaced (a directory removed and created again, a file renamed over)
        is watched again as it is now. Should watching itself fail, the failure is reported as
        an input error, the tree is rescanned by stat every POLL_S seconds, and watching is
        tried again after a backoff (RETRY_MIN_S doubling to RETRY_MAX_S).
        """
        from watchfiles import awatch

        retry = RETRY_MIN_S
        rescan = True
        while True:
            roots = self._root_ids()
            watched = [p for p, ident in zip(self.paths, roots, strict=True) if ident is not None]
            failure: Exception | None = None
            if watched:
                try:
                    async with contextlib.aclosing(awatch(
                            *watched, watch_filter=None, debounce=50, step=STEP_MS, recursive=True, rust_timeout=500,
                            yield_on_timeout=True, ignore_permission_denied=True)) as batches:
                        async for batch in batches:
                            if batch or rescan:
                                changes = await self._apply(batch, rescan)
                                if changes is not None:
                                    yield changes
                            rescan = False
                            retry = RETRY_MIN_S  # a healthy wake-up
                            if self._watch_errors:
                                self._report_watch_failure(None)
                                yield ChangeSet()  # errors changed: let the store's view know
                            if self._root_ids() != roots:
                                rescan = True
                                break  # watch the paths as they are now
                    continue
                except Exception as exc:  # the watcher must outlive any failure
                    failure = exc
                    log.exception("file watcher failed; rescanning every %g s, retrying in %g s", POLL_S, retry)
            # Nothing to watch (every path missing) or watching failed: rescan by stat until the
            # next attempt.
            if failure is not None and self._root_ids() == roots:
                self._report_watch_failure(failure)
                yield ChangeSet()  # errors changed: let the store's view know
            deadline = asyncio.get_running_loop().time() + (retry if failure is not None else POLL_S)
            while True:
                try:
                    changes = await self._apply(set(), True)
                except Exception:  # keep polling
                    log.exception("rescanning failed")
                    changes = None
                if changes is not None:
                    yield changes
                if asyncio.get_running_loop().time() >= deadline:
                    break
                await asyncio.sleep(POLL_S)
            if failure is not None:
                retry = min(retry * 2, RETRY_MAX_S)
            rescan = True
