"""xDS resources as they are served: serialized once, versioned by a hash of their bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from google.protobuf import any_pb2
from google.protobuf.message import Message

from .snapshot import GatewaySnapshot

LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
SCOPED_ROUTE = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration"
CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

# Make-before-break: clusters before their endpoints, secrets and clusters before the listeners
# that use them, listeners before their routes (scopes, then the routes of each scope).
PUSH_ORDER = (CLUSTER, ENDPOINT, SECRET, LISTENER, SCOPED_ROUTE, ROUTE)
# Types a client subscribes to with a wildcard (all of them) rather than by name.
WILDCARD_TYPES = frozenset({LISTENER, CLUSTER, SCOPED_ROUTE})
SHORT_NAMES = {LISTENER: "LDS", ROUTE: "RDS", CLUSTER: "CDS", ENDPOINT: "EDS", SECRET: "SDS",
               SCOPED_ROUTE: "SRDS"}


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
    data = msg.SerializeToString(deterministic=True)
    return Resource(name, version_of(data), any_pb2.Any(type_url=type_url, value=data))


Resources = dict[str, dict[str, Resource]]  # type URL → name → resource


def snapshot_resources(snap: GatewaySnapshot) -> Resources:
    """Every resource of a gateway snapshot, by type and name."""
    out: Resources = {t: {} for t in PUSH_ORDER}
    for m in snap.listeners:
        out[LISTENER][m.name] = make_resource(LISTENER, m.name, m)
    for m in snap.routes:
        out[ROUTE][m.name] = make_resource(ROUTE, m.name, m)
    for m in snap.scopes:
        out[SCOPED_ROUTE][m.name] = make_resource(SCOPED_ROUTE, m.name, m)
    for m in snap.clusters:
        out[CLUSTER][m.name] = make_resource(CLUSTER, m.name, m)
    for m in snap.endpoints:
        out[ENDPOINT][m.cluster_name] = make_resource(ENDPOINT, m.cluster_name, m)
    for m in snap.secrets:
        out[SECRET][m.name] = make_resource(SECRET, m.name, m)
    return out


def type_version(resources: dict[str, Resource]) -> str:
    """The State-of-the-World version of a whole type: a hash of its names and versions."""
    h = hashlib.blake2b(digest_size=8)
    for name in sorted(resources):
        h.update(name.encode())
        h.update(b"\0")
        h.update(resources[name].version.encode())
        h.update(b"\n")
    return h.hexdigest()
