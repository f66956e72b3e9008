"""A table of memoized results that remembers what each one read (see reads.py)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from .reads import Read, Recorder

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()  # a result may be None: absence needs a marker of its own


class Memo(Generic[K, V]):
    """Results by key, each with the reads it made; `invalidate` drops those a change affects.

    A hit counts as the result's reads for the computation that asked, so results built from
    other memoized results are dropped with them (dependencies are transitive by construction).

    Memory: a result's reads are kept as a tuple of the table's own copy of each read (one
    object per distinct read, shared by every result that made it), not as a set per result;
    at 10,000 services that halves what the bookkeeping holds.
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._values: dict[K, V] = {}
        self._reads: dict[K, tuple[Read, ...]] = {}
        # read → (the table's copy of the read, the key whose result made it, or a set of keys
        # when several did: most reads, such as one object's, have one user)
        self._users: dict[Read, tuple[Read, K | set[K]]] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result for `key`, computed (and its reads recorded) when not known."""
        value = self._values.get(key, _MISSING)
        if value is not _MISSING:
            self._recorder.read_all(self._reads[key])
            return value  # type: ignore[return-value]
        reads = self._recorder.push()
        try:
            value = compute()
        finally:
            self._recorder.pop()
        self.put(key, value, reads)
        return value

    def put(self, key: K, value: V, reads: Iterable[Read]) -> None:
        """Remember a result computed elsewhere, with the reads it made."""
        if key in self._reads:
            self.drop(key)
        kept = []
        users = self._users
        for read in reads if isinstance(reads, (set, frozenset)) else set(reads):
            entry = users.get(read)
            if entry is None:
                users[read] = (read, key)
                kept.append(read)
                continue
            holders = entry[1]
            if isinstance(holders, set):
                holders.add(key)
            elif holders != key:
                users[read] = (entry[0], {holders, key})
            kept.append(entry[0])
        self._values[key] = value
        self._reads[key] = tuple(kept)

    def reads(self, key: K) -> tuple[Read, ...]:
        """What the result for `key` read, each once (empty when unknown)."""
        return self._reads.get(key, ())

    def peek(self, key: K) -> V | None:
        """The result for `key` if known, without computing or recording anything."""
        return self._values.get(key)

    def drop(self, key: K) -> None:
        """Forget one result."""
        if self._values.pop(key, None) is None and key not in self._reads:
            return
        for read in self._reads.pop(key, ()):
            entry = self._users.get(read)
            if entry is None:
                continue
            holders = entry[1]
            if isinstance(holders, set):
                holders.discard(key)
                if not holders:
                    del self._users[read]
            elif holders == key:
                del self._users[read]

    def invalidate(self, changed: Iterable[Read]) -> list[K]:
        """Drop every result that read any of `changed`; returns their keys."""
        gone: list[K] = []
        for read in changed:
            entry = self._users.get(read)
            if entry is None:
                continue
            holders = entry[1]
            for key in list(holders) if isinstance(holders, set) else [holders]:
                self.drop(key)
                gone.append(key)
        return gone

    def clear(self) -> None:
        """Forget everything."""
        self._values.clear()
        self._reads.clear()
        self._users.clear()

    def __len__(self) -> int:
        return len(self._values)
