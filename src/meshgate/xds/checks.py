"""The checks that hold xDS clients to `XdsLimits`.

Everything a connected client sends is checked before it is stored or acted on: a request
outside these bounds ends its stream with a gRPC status naming the problem (never a traceback),
and the other streams go on being served. The checks are pure functions of the request and
what the stream holds; the server turns a `Refused` into the status and a metric.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2

from .limits import MAX_NAME_BYTES, XdsLimits
from .resources import PUSH_ORDER


class Refused(Exception):
    """A request the server will not serve: the stream ends with `code` and this message."""

    def __init__(self, code: grpc.StatusCode, message: str, reason: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason  # for the refusal metric: which check refused it

    @property
    def message(self) -> str:
        """What the client is told."""
        return str(self.args[0])


def _check_lengths(what: str, values: Iterable[str]) -> None:
    for v in values:
        # Byte length can only exceed character length: count characters first (cheap).
        if len(v) > MAX_NAME_BYTES // 4 and len(v.encode()) > MAX_NAME_BYTES:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          f"{what} of {len(v.encode())} bytes ({v[:40]!r}...); at most {MAX_NAME_BYTES} bytes are accepted",
                          "field_length")


def check_node(node: base_pb2.Node | None, limits: XdsLimits) -> base_pb2.Node:
    """The node of a stream's first request, when it has one within bounds; Refused otherwise."""
    if node is None:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "the first request must carry the node", "node")
    size = node.metadata.ByteSize()
    if size > limits.max_node_metadata_bytes:
        raise Refused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                      f"node {node.id[:100]!r}: metadata of {size} bytes exceeds the limit of "
                      f"{limits.max_node_metadata_bytes} (--max-node-metadata-bytes)", "node_metadata")
    _check_lengths("node id", [node.id])
    _check_lengths("node cluster", [node.cluster])
    return node


def check_type_url(type_url: str) -> None:
    """Refused unless the server serves `type_url`."""
    if type_url not in PUSH_ORDER:
        what = f"type_url {type_url[:200]!r}" if type_url else "a request without type_url"
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                      f"{what} is not served; meshgate serves {', '.join(PUSH_ORDER)}", "type_url")


def _check_count(count: int, limits: XdsLimits) -> None:
    if count > limits.max_resource_names:
        raise Refused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                      f"the stream would subscribe to {count} resource names, more than the limit of "
                      f"{limits.max_resource_names} (--max-resource-names)", "resource_names")


def check_sotw_request(req: discovery_pb2.DiscoveryRequest, subscribed: dict[str, set[str]],
                       limits: XdsLimits) -> None:
    """A State-of-the-World request, given the names each type of the stream subscribes to now
    (the request replaces its type's names)."""
    check_type_url(req.type_url)
    names = req.resource_names
    others = sum(len(v) for t, v in subscribed.items() if t != req.type_url)
    _check_count(others + len(names), limits)  # duplicates counted: Envoy sends none
    _check_lengths("resource name", names)
    _check_lengths("version_info", [req.version_info])
    _check_lengths("response_nonce", [req.response_nonce])


def check_delta_request(req: discovery_pb2.DeltaDiscoveryRequest, subscribed: dict[str, set[str]],
                        limits: XdsLimits) -> None:
    """A Delta request, given the names each type of the stream subscribes to now (the request
    adds to its type's names)."""
    check_type_url(req.type_url)
    current = subscribed.get(req.type_url, set())
    added = sum(1 for n in set(req.resource_names_subscribe) if n not in current)
    _check_count(sum(len(v) for v in subscribed.values()) + added, limits)
    _check_count(len(req.initial_resource_versions), limits)
    _check_lengths("resource name", req.resource_names_subscribe)
    _check_lengths("resource name", req.initial_resource_versions.keys())
    _check_lengths("resource version", req.initial_resource_versions.values())
    _check_lengths("response_nonce", [req.response_nonce])
