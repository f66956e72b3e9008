"""Envoy resources as proto3 JSON (proto field names), for the CLI and golden files."""

from __future__ import annotations

import json

from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message

from .snapshot import GatewaySnapshot

REDACTED = "[redacted]"


# Fields holding google.protobuf.Struct (maps): metadata, and the access log's JSON format.
_STRUCT_FIELDS = frozenset({"filter_metadata", "json_format"})
# Proto map fields of messages (filter name -> config): their keys print in hash order too, so they
# are sorted, but not the configs' own fields, whose order is the proto's.
_MAP_FIELDS = frozenset({"typed_per_filter_config"})


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
    return {k: (_sorted(v) if k in _STRUCT_FIELDS else _stable_map(v) if k in _MAP_FIELDS else _stable_structs(v))
            for k, v in value.items()}


def _stable_map(value: object) -> object:
    if isinstance(value, dict):
        return {k: _stable_structs(value[k]) for k in sorted(value)}
    return _stable_structs(value)


# Fields of Envoy's TLS messages that hold secret material, in proto3 JSON with proto field names:
# TlsCertificate's private key, PKCS#12 bundle and key password, session ticket keys, and generic
# secrets. Matched at any depth, so also inside Any-packed transport sockets.
SECRET_FIELDS = frozenset({"private_key", "pkcs12", "password", "session_ticket_keys", "generic_secret"})


def _blank(value: object) -> object:
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return REDACTED


def redact(value: object) -> object:
    """`value` (proto3 JSON) with the content of every secret field replaced by REDACTED.

    The field's shape stays (`{"inline_bytes": "[redacted]"}`), so a reader still sees where the
    key comes from. Everything meshgate prints or serves for debugging goes through this.
    """
    if isinstance(value, dict):
        return {k: (_blank(v) if k in SECRET_FIELDS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def message_dict(msg: Message, redacted: bool = True) -> dict:
    """A message as proto3 JSON with the proto field names (snake_case, as Envoy's docs), private
    keys redacted unless `redacted` is False."""
    # Through JSON text so that nested Any values come back as plain dicts.
    d = _stable_dict(json.loads(MessageToJson(msg, preserving_proto_field_name=True)))
    if not redacted:
        return d
    out = redact(d)
    assert isinstance(out, dict)
    return out


def snapshot_dict(snap: GatewaySnapshot, redact: bool = True) -> dict:
    """One gateway's resources in the `meshgate translate` shape (ARCHITECTURE §6), private keys
    redacted unless `redact` is False."""
    out = {
        "gateway": snap.gateway,
        "listeners": [message_dict(m, redact) for m in snap.listeners],
        "routes": [message_dict(m, redact) for m in snap.routes],
        "clusters": [message_dict(m, redact) for m in snap.clusters],
        "endpoints": [message_dict(m, redact) for m in snap.endpoints],
        "secrets": [message_dict(m, redact) for m in snap.secrets],
    }
    if snap.scopes:  # routes split per hostname (xds/scopes.py): the SRDS scopes
        out["scoped_routes"] = [message_dict(m, redact) for m in snap.scopes]
    return out
