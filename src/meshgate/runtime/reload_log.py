"""What each reload changed, pushed and broke, as log lines.

Per reload: the objects added, changed and removed (kinds and names, a few of each), the path
the translation took, the xDS types that moved and how many connected proxies were woken. Input
errors are logged when they first appear (file:line: object field: reason) and when they go
away, not again on every reload. In JSON logs the same facts come as fields (`reload`, `push`,
`input_error`); a reload's fields also say when (wall clock, seconds since the epoch) its first
change reached the controller (`received`), when the debounce let it through (`flushed`) and
when its apply was done (`applied`), so that a change's way from the file to Envoy can be timed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..resources.errors import InputError
from ..resources.meta import ObjectKey
from ..store import Store
from ..xds.cache import SnapshotCache
from ..xds.resources import PUSH_ORDER, SHORT_NAMES
from ..xds.streams import StreamRegistry

log = logging.getLogger("meshgate.reload")

MAX_NAMES = 5  # names shown per group; the rest are counted
PATHS = {"full": "full translation", "endpoints": "endpoints only", "none": "nothing to translate"}


@dataclass(frozen=True, slots=True)
class ObjectChanges:
    """The objects one reload added, changed and removed."""

    added: list[ObjectKey] = field(default_factory=list)
    changed: list[ObjectKey] = field(default_factory=list)
    removed: list[ObjectKey] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class Push:
    """What a reload moved in the cache: the xDS types, the gateways, the proxies woken."""

    types: list[str]  # short names, in push order
    gateways: list[str]  # gateways whose entry (shared or per-client) moved
    woken: int | None  # streams served from a moved entry (None: streams unknown)
    connected: int | None


@dataclass(frozen=True, slots=True)
class Before:
    """What a reload is compared with: which of its keys existed, and each cache entry's revision."""

    existed: frozenset[ObjectKey]
    revisions: dict[str, int]


def error_key(e: InputError) -> tuple[str, ...]:
    """An error's identity across reloads: everything but its line, which moves when lines are
    added above it without the problem changing."""
    return (e.severity, e.file, e.kind, e.namespace, e.name, e.field, e.reason)


def classify(before: frozenset[ObjectKey], changed: Iterable[ObjectKey], store: Store) -> ObjectChanges:
    """Split the keys a store apply changed into added, changed and removed."""
    out = ObjectChanges()
    for key in sorted(changed, key=lambda k: (k.kind, k.namespace, k.name)):
        if store.get(key.kind, key.namespace, key.name) is None:
            out.removed.append(key)
        elif key in before:
            out.changed.append(key)
        else:
            out.added.append(key)
    return out


def names(keys: list[ObjectKey]) -> str:
    """`Kind ns/name, ...`, at most MAX_NAMES of them, then how many more."""
    shown = ", ".join(str(k) for k in keys[:MAX_NAMES])
    return shown + (f" (+{len(keys) - MAX_NAMES} more)" if len(keys) > MAX_NAMES else "")


def describe_objects(objects: ObjectChanges) -> str:
    """`added X; changed Y; removed Z` (empty groups left out), or `no object changed`."""
    parts = [f"{verb} {names(keys)}" for verb, keys in
             (("added", objects.added), ("changed", objects.changed), ("removed", objects.removed)) if keys]
    return "; ".join(parts) or "no object changed"


def describe_load(objects: ObjectChanges) -> str:
    """`N objects (a Gateway, b HTTPRoute, ...)` for the initial load."""
    kinds = Counter(k.kind for k in objects.added)
    return f"{len(objects.added)} objects" + (
        f" ({', '.join(f'{n} {kind}' for kind, n in sorted(kinds.items()))})" if kinds else "")


def pushed(before: dict[str, int], cache: SnapshotCache, streams: StreamRegistry | None) -> Push:
    """Compare the cache with its revisions before a reload: which types and entries moved."""
    moved: list[str] = []
    types: set[str] = set()
    for key in cache.gateways():
        entry = cache.entry(key)
        old = before.get(key, 0)
        if entry.revision == old:
            continue
        moved.append(key)
        # A type changed after `old` carries a later revision stamp (see Entry._touch).
        types.update(t for t in PUSH_ORDER if entry.type_revision[t] > old)
    gateways = sorted({k.split("@", 1)[0] for k in moved})  # a per-client view counts as its gateway
    if streams is None:
        return Push([SHORT_NAMES[t] for t in PUSH_ORDER if t in types], gateways, None, None)
    live = streams.all()
    keys = set(moved)
    return Push([SHORT_NAMES[t] for t in PUSH_ORDER if t in types], gateways,
                sum(1 for s in live if s.cache_key in keys), len(live))


def describe_push(push: Push) -> str:
    """`CDS, RDS for gateway ns/a; woke 2 of 3 connected proxies`."""
    if not push.gateways:
        return "nothing (the served config did not change)"
    shown = ", ".join(push.gateways[:MAX_NAMES]) + (
        f" (+{len(push.gateways) - MAX_NAMES} more)" if len(push.gateways) > MAX_NAMES else "")
    what = ", ".join(push.types) or "no resource (proxies re-resolve their view)"
    woke = "" if push.woken is None else f"; woke {push.woken} of {push.connected} connected proxies"
    return f"{what} for gateway{'s' if len(push.gateways) > 1 else ''} {shown}{woke}"


class ReloadLog:
    """Logs the reloads of one control plane; remembers the input errors it already reported."""

    def __init__(self, streams: StreamRegistry | None = None) -> None:
        self.streams = streams  # the connected proxies, to say how many a push woke
        self._reported: dict[tuple[str, ...], InputError] = {}
        self._marks: dict[str, float] = {}  # step → wall-clock time, for the next reload's line

    def mark(self, step: str) -> None:
        """Note that the next reload passed `step` now (`received`, `flushed`): its JSON fields say when."""
        self._marks[step] = time.time()

    def before(self, store: Store, keys: Iterable[ObjectKey], cache: SnapshotCache) -> Before:
        """Note, before applying a change set touching `keys`, what it is compared with."""
        existed = frozenset(k for k in keys if store.get(k.kind, k.namespace, k.name) is not None)
        return Before(existed, {k: cache.entry(k).revision for k in cache.gateways()})

    def after(self, before: Before, changed: Iterable[ObjectKey], store: Store, cache: SnapshotCache,
              path: str, seconds: float, errors: list[InputError], initial: bool = False) -> None:
        """Log what a reload changed and pushed, and the input errors that came or went."""
        objects = classify(before.existed, changed, store)
        push = pushed(before.revisions, cache, self.streams)
        new, resolved = self.errors(errors)
        took = f"{PATHS.get(path, path)} in {seconds * 1000:.1f} ms"
        # As in the text: a few names per group and the counts (a big file makes no megabyte line).
        fields = {"reload": {"initial": initial, "path": path, "seconds": round(seconds, 6),
                             "counts": {"added": len(objects.added), "changed": len(objects.changed),
                                        "removed": len(objects.removed)},
                             "added": [str(k) for k in objects.added[:MAX_NAMES]],
                             "changed": [str(k) for k in objects.changed[:MAX_NAMES]],
                             "removed": [str(k) for k in objects.removed[:MAX_NAMES]],
                             **self._marks, "applied": time.time()}}
        self._marks = {}
        level = logging.INFO if objects or new or resolved or push.gateways else logging.DEBUG
        if initial:
            log.log(level, "initial load: %s, %d input error(s); %s", describe_load(objects),
                    sum(1 for e in errors if e.severity == "error"), took, extra=fields)
        else:
            log.log(level, "reload: %s; %s", describe_objects(objects), took, extra=fields)
        if objects or push.gateways:
            log.info("push: %s", describe_push(push), extra={"push": {
                "types": push.types, "gateways": push.gateways[:MAX_NAMES], "gateway_count": len(push.gateways),
                "woken": push.woken, "connected": push.connected}})
        for e in new:
            log.warning("input %s: %s", e.severity, e, extra={"input_error": e.to_dict()})
        for e in resolved:
            log.info("input %s resolved: %s", e.severity, e, extra={"input_error": e.to_dict()})

    def errors(self, errors: list[InputError]) -> tuple[list[InputError], list[InputError]]:
        """The errors not reported before, and those reported before and gone now; remembers these."""
        current = {error_key(e): e for e in errors}
        new = [e for k, e in current.items() if k not in self._reported]
        resolved = [e for k, e in self._reported.items() if k not in current]
        self._reported = current
        return new, resolved
