"""Small proto helpers shared by the xDS builders."""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2, config_source_pb2
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message

from ..ir import HeaderMutation

ADS = config_source_pb2.ConfigSource(
    ads=config_source_pb2.AggregatedConfigSource(),
    resource_api_version=config_source_pb2.V3,
)

_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_APPEND = base_pb2.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD


def to_any(msg: Message) -> any_pb2.Any:
    """Pack a message into an Any with Envoy's type URL prefix."""
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def duration_ms(ms: int) -> duration_pb2.Duration:
    """A Duration of `ms` milliseconds."""
    return duration_pb2.Duration(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)


def header_options(mutation: HeaderMutation) -> list[base_pb2.HeaderValueOption]:
    """`set` overwrites, `add` appends."""
    out = [base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v), append_action=_OVERWRITE)
           for k, v in mutation.set]
    out.extend(base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v), append_action=_APPEND)
               for k, v in mutation.add)
    return out
