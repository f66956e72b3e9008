"""Per-stream xDS state: what a connected proxy subscribed to, was sent, ACKed and NACKed."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .proxy import ProxyIdentity
from .resources import WILDCARD_TYPES, Resource

# Responses of one type a proxy may leave unanswered before the oldest are merged (Envoy answers
# each within milliseconds; a client that does not answer must not grow the server).
MAX_UNANSWERED = 16

ClusterRefs = dict[str, frozenset[str] | None]  # resource name → the clusters it names (None: removed)


@dataclass(slots=True)
class Sent:
    """A response of routes or listeners the proxy has not answered yet: what its resources name."""

    nonce: int
    refs: ClusterRefs
    full: bool  # State of the World: the proxy keeps only what this response carries

    def merged(self, later: Sent) -> Sent:
        """This response and a later one as one, naming everything either names (conservative:
        the proxy may be using either)."""
        refs: ClusterRefs = {}
        for name in self.refs.keys() | later.refs.keys():
            both = [s.refs[name] for s in (self, later) if name in s.refs]
            named = [r for r in both if r is not None]
            refs[name] = frozenset().union(*named) if named else None
        return Sent(later.nonce, refs, later.full)

    def apply(self, applied: dict[str, frozenset[str]]) -> None:
        if self.full:
            applied.clear()
        for name, refs in self.refs.items():
            if refs is None:
                applied.pop(name, None)
            else:
                applied[name] = refs


def nonce_number(nonce: str) -> int | None:
    """Our nonces count up per stream; None for one we did not send."""
    return int(nonce) if nonce.isascii() and nonce.isdigit() and len(nonce) < 20 else None


@dataclass(slots=True)
class TypeState:
    """One resource type on one stream."""

    active: bool = False  # the client asked for this type
    wildcard: bool = False
    names: set[str] = field(default_factory=set)
    nonce: str = ""  # of the last response sent
    sent_version: str = ""  # SotW: version_info of the last response
    acked_version: str = ""
    acked_nonce: str = ""
    nack: str = ""  # Envoy's error detail of the last NACK, cleared by the next ACK
    nacks: int = 0
    # Delta, and SotW for the types sent by change (server.py: all but LDS and CDS).
    known: dict[str, str] = field(default_factory=dict)  # name → version the client was sent
    synced_revision: int = 0  # the cache revision of this type last pushed
    resync: bool = False  # compare everything on the next push (the stream changed entries)
    nack_logged_at: float | None = None  # when a NACK of this type was last logged (monotonic)
    nacks_unlogged: int = 0  # NACKs since then that were counted but not logged
    # Make-before-break (server.py). RDS and LDS: the clusters the proxy's routes and listeners
    # may name, as of its last answer and in the responses it has not answered yet.
    applied: dict[str, frozenset[str]] = field(default_factory=dict)
    unanswered: list[Sent] = field(default_factory=list)
    # CDS: clusters gone from the config that the proxy keeps while its routes may name them;
    # EDS: the assignments of those clusters.
    held: set[str] = field(default_factory=set)
    sent: Mapping[str, Resource] | None = None  # SotW CDS: the clusters the last response carried
    # CDS: the clusters each unanswered response added (Envoy answers CDS once every new cluster
    # is warm); RDS and LDS: a change that names one of them waits for that answer.
    adding: list[tuple[int, frozenset[str]]] = field(default_factory=list)
    deferred: bool = False
    follow: set[str] = field(default_factory=set)  # EDS: assignments to send next, changed or not
    # SotW types sent by change: the names each unanswered response carried, and those of
    # responses the proxy rejected, sent again with the type's next response.
    carried: list[tuple[int, int, frozenset[str]]] = field(default_factory=list)  # (first, last nonce, names)
    resend: set[str] = field(default_factory=set)

    def subscribe(self, type_url: str, names: list[str], first: bool) -> None:
        """Apply requested names; a first request without names is a wildcard for LDS/CDS."""
        if "*" in names:
            self.wildcard = True
            names = [n for n in names if n != "*"]
        elif first and not names and type_url in WILDCARD_TYPES:
            self.wildcard = True
        self.names.update(names)

    def unsubscribe(self, names: list[str]) -> None:
        """Forget names (and "*", the wildcard)."""
        for n in names:
            if n == "*":
                self.wildcard = False
            self.names.discard(n)
            self.known.pop(n, None)
        self.forget(names)

    def wants(self, name: str) -> bool:
        """Whether a resource is in this subscription."""
        return self.wildcard or name in self.names

    def sent_refs(self, nonce: str, refs: ClusterRefs, full: bool) -> None:
        """Routes or listeners were sent: remember the clusters they name until the proxy answers."""
        number = nonce_number(nonce)
        assert number is not None  # nonces are ours
        self.unanswered.append(Sent(number, refs, full))
        if len(self.unanswered) > MAX_UNANSWERED:
            self.unanswered[0:2] = [self.unanswered[0].merged(self.unanswered[1])]

    def added(self, nonce: str, names: Iterable[str]) -> None:
        """Clusters were sent that the proxy did not have: remember them until it answers."""
        added = frozenset(names)
        number = nonce_number(nonce)
        if not added or number is None:
            return
        self.adding.append((number, added))
        if len(self.adding) > MAX_UNANSWERED:
            (_, first), (later, second) = self.adding[0], self.adding[1]
            self.adding[0:2] = [(later, first | second)]

    def carrying(self, nonce: str, names: Iterable[str]) -> None:
        """A response of changed resources was sent: remember its names until the proxy answers."""
        number = nonce_number(nonce)
        assert number is not None  # nonces are ours
        self.carried.append((number, number, frozenset(names)))
        if len(self.carried) > MAX_UNANSWERED:
            (lo, _, first), (_, hi, second) = self.carried[0], self.carried[1]
            self.carried[0:2] = [(lo, hi, first | second)]

    def carried_answered(self, nonce: str, accepted: bool) -> None:
        """The proxy answered the response `nonce` (and so every earlier one): on a NACK, what
        it carried may not have been applied, so it goes again with the type's next response."""
        number = nonce_number(nonce)
        if number is None:
            return
        while self.carried and self.carried[0][1] <= number:
            _, last, names = self.carried.pop(0)
            if not accepted and last == number:
                self.resend |= names
        if not accepted and self.carried and self.carried[0][0] <= number:
            self.resend |= self.carried[0][2]  # in a merged range: all of it, to be safe

    def warming(self) -> frozenset[str]:
        """Clusters sent in responses the proxy has not answered yet."""
        return frozenset().union(*(names for _, names in self.adding))

    def answered(self, nonce: str, accepted: bool) -> None:
        """The proxy answered the response `nonce`, so also every earlier one of this type: an
        ACK means it uses what they carried; a NACK, that it kept what it had before this one."""
        number = nonce_number(nonce)
        if number is None:
            return
        while self.adding and self.adding[0][0] <= number:
            self.adding.pop(0)
        while self.unanswered and self.unanswered[0].nonce <= number:
            sent = self.unanswered.pop(0)
            if accepted or sent.nonce < number:
                sent.apply(self.applied)

    def referenced(self) -> set[str]:
        """The clusters the proxy's resources of this type may name now."""
        out: set[str] = set().union(*self.applied.values())
        for sent in self.unanswered:
            for refs in sent.refs.values():
                if refs:
                    out |= refs
        return out

    def forget(self, names: Iterable[str]) -> None:
        """The proxy dropped these resources (no longer subscribed): they name nothing any more."""
        for n in names:
            self.applied.pop(n, None)
            for sent in self.unanswered:
                sent.refs.pop(n, None)


@dataclass(slots=True)
class StreamState:
    """A connected proxy: who it is and, per type, where the conversation stands."""

    stream_id: int
    protocol: str  # "sotw" or "delta"
    gateway: str = ""
    cache_key: str = ""  # the cache entry serving it (the gateway, or a per-client context)
    identity: ProxyIdentity | None = None  # what it announced (None until its first request)
    node_id: str = ""
    peer: str = ""
    connected_at: float = field(default_factory=time.time)
    types: dict[str, TypeState] = field(default_factory=dict)
    nonce_counter: int = 0
    # Convergence (server.py): the cache revision the last push caught up with, and the one the
    # proxy last ACKed everything of (None: not yet, or its entry changed since).
    pushed_revision: int = 0
    converged_revision: int | None = None

    def type_state(self, type_url: str) -> TypeState:
        ts = self.types.get(type_url)
        if ts is None:
            ts = self.types[type_url] = TypeState()
        return ts

    def in_sync(self) -> bool:
        """Whether the proxy has ACKed the last response of every type it subscribes to, and no
        change waits to be sent (routes waiting for clusters to warm)."""
        active = [ts for ts in self.types.values() if ts.active]
        return bool(active) and all(ts.nonce == ts.acked_nonce and not ts.deferred for ts in active)

    def subscribed(self) -> dict[str, set[str]]:
        """The names each type subscribes to (for the subscription limit)."""
        return {t: ts.names for t, ts in self.types.items()}

    def next_nonce(self) -> str:
        self.nonce_counter += 1
        return str(self.nonce_counter)

    def to_dict(self) -> dict:
        """For the debug endpoint and `meshgate status --server`."""
        from .resources import SHORT_NAMES

        return {
            "stream": self.stream_id,
            "protocol": self.protocol,
            "gateway": self.gateway,
            "node": self.node_id,
            "peer": self.peer,
            "connectedAt": self.connected_at,
            "types": {
                SHORT_NAMES.get(t, t): {
                    "ackedVersion": ts.acked_version,
                    "sentNonce": ts.nonce,
                    "ackedNonce": ts.acked_nonce,
                    "nacks": ts.nacks,
                    "lastNack": ts.nack,
                    "wildcard": ts.wildcard,
                    "names": len(ts.names),
                    "held": len(ts.held),
                }
                for t, ts in sorted(self.types.items())
            },
        }


class StreamRegistry:
    """Connected streams, for metrics and debugging."""

    def __init__(self) -> None:
        self._streams: dict[int, StreamState] = {}
        self._next = 0

    def open(self, protocol: str, peer: str) -> StreamState:
        self._next += 1
        st = StreamState(self._next, protocol, peer=peer)
        self._streams[st.stream_id] = st
        return st

    def close(self, st: StreamState) -> None:
        self._streams.pop(st.stream_id, None)

    def all(self) -> list[StreamState]:
        return [self._streams[k] for k in sorted(self._streams)]
