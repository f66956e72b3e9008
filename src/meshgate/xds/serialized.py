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


def part_digest(data: bytes) -> bytes:
    """A part of a resource's bytes, digested (see `assembled_resource`)."""
    return hashlib.blake2b(data, digest_size=16).digest()


def assembled_resource(type_url: str, name: str, data: bytes, digests: list[bytes]) -> Resource:
    """A resource whose bytes `data` are joined from parts kept elsewhere, versioned by the
    digests of all its parts in order (`part_digest`'s): equal bytes, equal version, without
    hashing megabytes again for every change to one part."""
    return Resource(name, hashlib.blake2b(b"".join(digests), digest_size=8).hexdigest(),
                    any_pb2.Any(type_url=type_url, value=data))


def make_resource(type_url: str, name: str, msg: Message) -> Resource:
    """Serialize a message once (deterministically, so equal config has equal bytes)."""
    return serialized_resource(type_url, name, msg.SerializeToString(deterministic=True))


def serialized_resource(type_url: str, name: str, data: bytes) -> Resource:
    """A resource from bytes serialized (deterministically) elsewhere."""
    return Resource(name, version_of(data), any_pb2.Any(type_url=type_url, value=data))
