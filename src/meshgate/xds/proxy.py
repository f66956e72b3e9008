"""Who is asking: a proxy's identity, read from the Envoy node it announces (ARCHITECTURE §4, §6).

The node carries, in `node.metadata`:

- `meshgate.io/gateway`: the Gateway it serves, "namespace/name" (falls back to `node.cluster`);
- `meshgate.io/labels`: a map of string labels (for failoverPriority and the like);
- `meshgate.io/node-name`: the Kubernetes node it runs on (for node-local traffic);
- `meshgate.io/annotations`: a map of string annotations (a managed Envoy's Gateway
  `spec.infrastructure.annotations`); informational, not part of the identity;

and its locality in `node.locality`. `node_metadata` writes the same keys, for bootstraps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envoy.config.core.v3 import base_pb2
from google.protobuf import struct_pb2

from ..discovery.model import Locality

GATEWAY_KEY = "meshgate.io/gateway"
LABELS_KEY = "meshgate.io/labels"
NODE_NAME_KEY = "meshgate.io/node-name"
ANNOTATIONS_KEY = "meshgate.io/annotations"


@dataclass(frozen=True, slots=True)
class ProxyIdentity:
    """What a connected proxy is: the Gateway it serves and where it runs."""

    gateway: str  # "namespace/name"
    locality: Locality = field(default_factory=Locality)
    labels: tuple[tuple[str, str], ...] = ()  # sorted by key
    node_name: str = ""
    node_id: str = ""

    def labels_dict(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.labels)


def check_gateway(gateway: str, where: str = "gateway") -> str:
    """`gateway` when it is "namespace/name"; ValueError otherwise."""
    parts = gateway.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts) or gateway != gateway.strip():
        raise ValueError(f"{where} {gateway!r} is not a Gateway reference of the form namespace/name")
    return gateway


def _kind(value: struct_pb2.Value) -> str:
    return value.WhichOneof("kind") or "nothing"


def identity_from_node(node: base_pb2.Node) -> ProxyIdentity:
    """The identity an Envoy node announces; ValueError when it names no valid Gateway."""
    fields = node.metadata.fields
    if GATEWAY_KEY in fields:
        value = fields[GATEWAY_KEY]
        if _kind(value) != "string_value":
            raise ValueError(f"node {node.id!r}: metadata {GATEWAY_KEY} must be a string "
                             f"\"namespace/name\", not {_kind(value).removesuffix('_value')}")
        gateway = check_gateway(value.string_value, f"node {node.id!r}: metadata {GATEWAY_KEY}")
    elif node.cluster:
        gateway = check_gateway(node.cluster, f"node {node.id!r}: node.cluster (no {GATEWAY_KEY} metadata)")
    else:
        raise ValueError(f"node {node.id!r} names no Gateway: set metadata {GATEWAY_KEY} "
                         "(or node.cluster) to \"namespace/name\"")

    labels: list[tuple[str, str]] = []
    if LABELS_KEY in fields:
        value = fields[LABELS_KEY]
        if _kind(value) != "struct_value":
            raise ValueError(f"node {node.id!r}: metadata {LABELS_KEY} must be a map of strings, "
                             f"not {_kind(value).removesuffix('_value')}")
        for key, v in value.struct_value.fields.items():
            if _kind(v) != "string_value":
                raise ValueError(f"node {node.id!r}: label {key!r} in metadata {LABELS_KEY} must be a string, "
                                 f"not {_kind(v).removesuffix('_value')}")
            labels.append((key, v.string_value))

    node_name = ""
    if NODE_NAME_KEY in fields:
        value = fields[NODE_NAME_KEY]
        if _kind(value) != "string_value":
            raise ValueError(f"node {node.id!r}: metadata {NODE_NAME_KEY} must be a string, "
                             f"not {_kind(value).removesuffix('_value')}")
        node_name = value.string_value

    loc = node.locality
    return ProxyIdentity(
        gateway=gateway,
        locality=Locality(region=loc.region, zone=loc.zone, subzone=loc.sub_zone),
        labels=tuple(sorted(labels)),
        node_name=node_name,
        node_id=node.id,
    )


def node_metadata(identity: ProxyIdentity) -> struct_pb2.Struct:
    """The `node.metadata` announcing this identity (locality and id go elsewhere in the node)."""
    meta = struct_pb2.Struct()
    meta.fields[GATEWAY_KEY].string_value = check_gateway(identity.gateway)
    if identity.labels:
        labels = meta.fields[LABELS_KEY].struct_value
        for key, value in identity.labels:
            labels.fields[key].string_value = value
    if identity.node_name:
        meta.fields[NODE_NAME_KEY].string_value = identity.node_name
    return meta


def locality_proto(locality: Locality) -> base_pb2.Locality:
    """A Locality as Envoy's `config.core.v3.Locality`."""
    return base_pb2.Locality(region=locality.region, zone=locality.zone, sub_zone=locality.subzone)
