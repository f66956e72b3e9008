"""Serialized xDS resources: each message serialized once, versioned by a hash of its bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from google.protobuf import any_pb2
from google.protobuf.message import Message

LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
SCOPED_ROUTE = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration"
CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


@dataclass(frozen=True, slots=True)
class Resource:
    """One serialized resource: its name, a version (hash of its bytes) and the packed Any."""

    name: str
    version: str
    body: any_pb2.Any


def version_of(data: bytes) -> str:
    """A short content hash: equal bytes, equal version."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def make_resource(type_url: str, name: str, msg: Message) -> Resource:
    """Serialize a message once (deterministically, so equal config has equal bytes)."""
    return serialized_resource(type_url, name, msg.SerializeToString(deterministic=True))


def serialized_resource(type_url: str, name: str, data: bytes) -> Resource:
    """A resource from bytes serialized (deterministically) elsewhere."""
    return Resource(name, version_of(data), any_pb2.Any(type_url=type_url, value=data))


class Serializer:
    """Serializes messages once for as long as they live: builders that live across changes
    (the cluster and route builders) hand out the very same message object while its input
    holds, so a message seen before is a dictionary lookup, not a serialization and a hash.

    Keyed by the message's identity, with the message kept alive by the entry (so its id
    cannot be reused by another object meanwhile); such messages are never changed once built.
    `sweep` forgets what was not asked for since the last sweep.
    """

    __slots__ = ("_known", "_used")

    def __init__(self) -> None:
        self._known: dict[int, tuple[Message, str, Resource]] = {}
        self._used: set[int] = set()

    def resource(self, type_url: str, name: str, msg: Message) -> Resource:
        """`make_resource(type_url, name, msg)`, from memory when `msg` was serialized before."""
        key = id(msg)
        self._used.add(key)
        found = self._known.get(key)
        if found is not None and found[0] is msg and found[1] == type_url and found[2].name == name:
            return found[2]
        out = make_resource(type_url, name, msg)
        self._known[key] = (msg, type_url, out)
        return out

    def sweep(self) -> None:
        """Forget the messages not asked for since the last sweep."""
        self._known = {k: v for k, v in self._known.items() if k in self._used}
        self._used = set()

    def __len__(self) -> int:
        return len(self._known)
