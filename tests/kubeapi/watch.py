"""Watch streams (`?watch=1`): newline-delimited JSON events ADDED, MODIFIED, DELETED, BOOKMARK
and ERROR, as api-concepts "Efficient detection of changes" describes.

- resourceVersion unset or "0": synthetic ADDED events for the current objects, then changes.
- resourceVersion N: every change after N, from the kept history; when N is older than the
  history, one ERROR event carrying a 410 Expired Status (the stream is HTTP 200, as the real
  server's), and the stream ends.
- sendInitialEvents=true (watch-list): the current objects as ADDED, then a BOOKMARK annotated
  `k8s.io/initial-events-end`.
- allowWatchBookmarks: BOOKMARK events (kind, apiVersion and metadata.resourceVersion only) every
  `bookmark_interval` seconds when idle, and on demand (Emulator.bookmark_now).
- A label or field selector turns an object that starts matching into ADDED and one that stops
  matching into DELETED, as the real server's filtered watch does.
- timeoutSeconds ends the stream; so does the server's own maximum, dropping the watches, and a
  watcher too slow to take its events (its queue over the store's limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError
from .resources import ResourceType
from .selectors import Selector
from .store import Event, Store, namespace_of

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(frozen=True)
class WatchRequest:
    """What one watch asks for."""

    rtype: ResourceType
    version: str
    namespace: str | None
    selector: Selector
    resource_version: str | None
    bookmarks: bool
    send_initial: bool
    timeout: float


class Stream:
    """One open watch's translation of store events into wire events."""

    def __init__(self, watch: WatchRequest) -> None:
        self.watch = watch

    def _selected(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        if self.watch.namespace is not None and namespace_of(obj) != self.watch.namespace:
            return False
        return self.watch.selector.matches(obj)

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as served at the watched version."""
        return {**obj, "apiVersion": self.watch.rtype.api_version(self.watch.version)}

    def wire(self, event: Event) -> dict[str, Any] | None:
        """The event this watcher sees for a store event, or None."""
        now, before = self._selected(event.obj), self._selected(event.old)
        if event.type == "DELETED":
            kind = "DELETED" if before else None
        elif event.type == "ADDED" or not before:
            kind = "ADDED" if now else None
        else:
            kind = "MODIFIED" if now else "DELETED"
        return None if kind is None else {"type": kind, "object": self.present(event.obj)}

    def bookmark(self, rv: int, initial_end: bool = False) -> dict[str, Any]:
        """A BOOKMARK event: only kind, apiVersion and the resourceVersion reached."""
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        return {"type": "BOOKMARK", "object": {"kind": self.watch.rtype.kind,
                                               "apiVersion": self.watch.rtype.api_version(self.watch.version),
                                               "metadata": meta}}


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


async def serve_watch(request: web.Request, store: Store, watch: WatchRequest, bookmark_interval: float
                      ) -> web.StreamResponse:
    """Stream a watch until its timeout, the client leaving or the server dropping it."""
    stream = Stream(watch)
    first: list[dict[str, Any]] = []
    rv_param = watch.resource_version
    # No await from reading the state to registering the watcher: no change can fall in between.
    try:
        if rv_param in (None, "", "0") or watch.send_initial:
            first = [{"type": "ADDED", "object": stream.present(o)}
                     for o in store.items(watch.rtype.key, watch.namespace) if stream._selected(o)]
            if watch.send_initial:
                first.append(stream.bookmark(store.rv, initial_end=True))
        else:
            if not rv_param.isdigit():
                raise ApiError("BadRequest", f"invalid resource version: {rv_param!r}")
            first = [e for e in (stream.wire(ev) for ev in store.events_after(watch.rtype.key, int(rv_param))) if e]
        watcher = store.open_watch(watch.rtype.key, watch.bookmarks)
        error = None
    except ApiError as exc:
        if exc.code != 410:
            raise
        watcher, error = None, exc
    response = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        if error is not None:
            await response.write(_line({"type": "ERROR", "object": error.status()}))
            return response
        assert watcher is not None
        for event in first:
            await response.write(_line(event))
        deadline = time.monotonic() + watch.timeout
        next_bookmark = time.monotonic() + bookmark_interval
        while (remaining := deadline - time.monotonic()) > 0:
            if request.transport is None or request.transport.is_closing():
                break  # the client went away
            wait = min(remaining, 1.0, max(0.0, next_bookmark - time.monotonic()) if watch.bookmarks else 1.0)
            try:
                item = await asyncio.wait_for(watcher.queue.get(), wait)
            except TimeoutError:
                if watch.bookmarks and time.monotonic() >= next_bookmark:
                    # The queue is empty: every change up to store.rv has been sent.
                    await response.write(_line(stream.bookmark(store.rv)))
                    next_bookmark = time.monotonic() + bookmark_interval
                continue
            if item is None:
                break
            wire = stream.bookmark(item) if isinstance(item, int) else stream.wire(item)
            if wire is not None:
                await response.write(_line(wire))
    except ConnectionResetError:
        pass  # the client went away mid-write
    finally:
        if watcher is not None:
            store.close_watch(watcher)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response
