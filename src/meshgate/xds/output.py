"""Envoy resources as proto3 JSON (proto field names), for the CLI and golden files."""

from __future__ import annotations

import json

from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message

from .snapshot import GatewaySnapshot

REDACTED = "[redacted]"


# Fields holding google.protobuf.Struct (maps): metadata, and the access log's JSON format.
_STRUCT_FIELDS = frozenset({"filter_metadata", "json_format"})


def _sorted(value: object) -> object:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _stable_structs(value: object) -> object:
    """Struct maps (metadata) print in hash order, which varies between processes: sort them."""
    if isinstance(value, dict):
        return _stable_dict(value)
    if isinstance(value, list):
        return [_stable_structs(v) for v in value]
    return value


def _stable_dict(value: dict) -> dict:
    return {k: (_sorted(v) if k in _STRUCT_FIELDS else _stable_structs(v)) for k, v in value.items()}


def message_dict(msg: Message) -> dict:
    """A message as proto3 JSON with the proto field names (snake_case, as Envoy's docs)."""
    # Through JSON text so that nested Any values come back as plain dicts.
    return _stable_dict(json.loads(MessageToJson(msg, preserving_proto_field_name=True)))


def _redacted_secret(msg: Message) -> dict:
    d = message_dict(msg)
    key = d.get("tls_certificate", {}).get("private_key")
    if key is not None:
        d["tls_certificate"]["private_key"] = {k: REDACTED for k in key}
    return d


def snapshot_dict(snap: GatewaySnapshot, redact: bool = True) -> dict:
    """One gateway's resources in the `meshgate translate` shape (DESIGN §6)."""
    return {
        "gateway": snap.gateway,
        "listeners": [message_dict(m) for m in snap.listeners],
        "routes": [message_dict(m) for m in snap.routes],
        "clusters": [message_dict(m) for m in snap.clusters],
        "endpoints": [message_dict(m) for m in snap.endpoints],
        "secrets": [_redacted_secret(m) if redact else message_dict(m) for m in snap.secrets],
    }
