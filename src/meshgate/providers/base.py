"""What the control plane needs from a provider (the file provider now, the Kubernetes API next).

A provider owns where objects come from: it loads them all once, then yields change sets as
they happen, and says which inputs it could not read (errors) and which objects it read but
refused (rejected, still given status). The control plane never reaches past this protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from ..resources.errors import InputError
from ..resources.loader import Rejected
from .changes import ChangeSet


class Provider(Protocol):
    """A source of objects and of changes to them.

    Objects come complete: with what an API server fills in (uid, creationTimestamp, generation
    bumped on spec changes), from the API server or emulated (the file provider: api_fields),
    and with their origin (`Source`: file and line, or resourceVersion). The store stores them
    as given.
    """

    @property
    def errors(self) -> list[InputError]:
        """Input problems as of the last load or change (file:line, or an object's origin)."""
        ...

    @property
    def rejected(self) -> list[Rejected]:
        """Objects that were read but refused: their kind has status, which says why."""
        ...

    async def start(self) -> None:
        """Connect and read everything once (before `load_all`)."""
        ...

    async def stop(self) -> None:
        """Let go of connections and tasks."""
        ...

    def load_all(self) -> ChangeSet:
        """Every object, as one change set (the initial load)."""
        ...

    def watch(self) -> AsyncIterator[ChangeSet]:
        """Change sets as they happen, until cancelled."""
        ...
