"""Per-stream xDS state: what a connected proxy subscribed to, was sent, ACKed and NACKed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .proxy import ProxyIdentity
from .resources import WILDCARD_TYPES


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
    known: dict[str, str] = field(default_factory=dict)  # Delta: name → version the client has
    synced_revision: int = 0  # Delta: the cache revision of this type last pushed
    resync: bool = False  # Delta: compare everything on the next push (the stream changed entries)
    nack_logged_at: float | None = None  # when a NACK of this type was last logged (monotonic)
    nacks_unlogged: int = 0  # NACKs since then that were counted but not logged

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

    def wants(self, name: str) -> bool:
        """Whether a resource is in this subscription."""
        return self.wildcard or name in self.names


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

    def type_state(self, type_url: str) -> TypeState:
        ts = self.types.get(type_url)
        if ts is None:
            ts = self.types[type_url] = TypeState()
        return ts

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
