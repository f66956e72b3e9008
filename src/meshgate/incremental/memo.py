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
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._values: dict[K, V] = {}
        self._reads: dict[K, frozenset[Read]] = {}
        self._users: dict[Read, set[K]] = {}  # read → keys whose result made it

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
        frozen = frozenset(reads)
        self._values[key] = value
        self._reads[key] = frozen
        for read in frozen:
            self._users.setdefault(read, set()).add(key)

    def reads(self, key: K) -> frozenset[Read]:
        """What the result for `key` read (empty when unknown)."""
        return self._reads.get(key, frozenset())

    def peek(self, key: K) -> V | None:
        """The result for `key` if known, without computing or recording anything."""
        return self._values.get(key)

    def drop(self, key: K) -> None:
        """Forget one result."""
        if self._values.pop(key, None) is None and key not in self._reads:
            return
        for read in self._reads.pop(key, frozenset()):
            users = self._users.get(read)
            if users is not None:
                users.discard(key)
                if not users:
                    del self._users[read]

    def invalidate(self, changed: Iterable[Read]) -> list[K]:
        """Drop every result that read any of `changed`; returns their keys."""
        gone: list[K] = []
        for read in changed:
            for key in list(self._users.get(read, ())):
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
