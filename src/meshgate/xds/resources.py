"""xDS resources as they are served: serialized once, versioned by a hash of their bytes."""

from __future__ import annotations

import hashlib

from .serialized import (
    CLUSTER,
    ENDPOINT,
    LISTENER,
    ROUTE,
    SCOPED_ROUTE,
    SECRET,
    Resource,
    make_resource,
    version_of,
)
from .snapshot import GatewaySnapshot

__all__ = ["CLUSTER", "ENDPOINT", "LISTENER", "ROUTE", "SCOPED_ROUTE", "SECRET", "Resource",
           "make_resource", "version_of"]


# Make-before-break: clusters before their endpoints, secrets and clusters before the listeners
# that use them, listeners before their routes (scopes, then the routes of each scope).
PUSH_ORDER = (CLUSTER, ENDPOINT, SECRET, LISTENER, SCOPED_ROUTE, ROUTE)
# Types a client subscribes to with a wildcard (all of them) rather than by name.
WILDCARD_TYPES = frozenset({LISTENER, CLUSTER, SCOPED_ROUTE})
SHORT_NAMES = {LISTENER: "LDS", ROUTE: "RDS", CLUSTER: "CDS", ENDPOINT: "EDS", SECRET: "SDS",
               SCOPED_ROUTE: "SRDS"}


Resources = dict[str, dict[str, Resource]]  # type URL → name → resource


def snapshot_resources(snap: GatewaySnapshot) -> Resources:
    """Every resource of a gateway snapshot, by type and name."""
    out: Resources = {t: {} for t in PUSH_ORDER}
    for m in snap.listeners:
        out[LISTENER][m.name] = make_resource(LISTENER, m.name, m)
    # Routes, scopes, clusters and load assignments come serialized from their builders.
    out[ROUTE] = {r.name: r for r in snap.route_resources}
    out[SCOPED_ROUTE] = {r.name: r for r in snap.scope_resources}
    out[CLUSTER] = {r.name: r for r in snap.cluster_resources}
    out[ENDPOINT] = {r.name: r for r in snap.endpoint_resources}
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
