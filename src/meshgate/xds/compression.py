"""Response compression: Envoy's compressor filter, one per algorithm (gzip, brotli, zstd), as
Envoy Gateway configures it for a BackendTrafficPolicy's `compression`.

Each filter sits on a connection manager disabled (`HttpFilter.disabled`): a route turns it on
with a per-route config (CompressorPerRoute overrides, with the library's settings when the route
has its own). The connection manager's entry carries the library's defaults, the smallest
response size to compress and whether the algorithm is preferred on a tie of the client's
q-values, from the first route that wants it (Envoy's per-route overrides cannot say those;
Envoy Gateway takes the first route's likewise). The route drops the client's
Accept-Encoding before the backend sees it, so that the backend does not compress as well.
"""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import extension_pb2
from envoy.extensions.compression.brotli.compressor.v3 import brotli_pb2
from envoy.extensions.compression.gzip.compressor.v3 import gzip_pb2
from envoy.extensions.compression.zstd.compressor.v3 import zstd_pb2
from envoy.extensions.filters.http.compressor.v3 import compressor_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from google.protobuf.message import Message

from .. import ir
from .common import to_any

# Algorithm → (filter name, library extension name, library message type).
LIBRARIES: dict[str, tuple[str, str, type[Message]]] = {
    "Gzip": ("envoy.filters.http.compressor.gzip", "envoy.compression.gzip.compressor", gzip_pb2.Gzip),
    "Brotli": ("envoy.filters.http.compressor.brotli", "envoy.compression.brotli.compressor", brotli_pb2.Brotli),
    "Zstd": ("envoy.filters.http.compressor.zstd", "envoy.compression.zstd.compressor", zstd_pb2.Zstd),
}


def compression_of(r: ir.Route, algorithm: str) -> ir.Compression | None:
    """The route's compression with `algorithm`, None if it has none."""
    return next((c for c in r.compression if c.algorithm == algorithm), None)


def _library(c: ir.Compression) -> extension_pb2.TypedExtensionConfig:
    _, extension, message = LIBRARIES[c.algorithm]
    lib = message()
    for field, value in c.settings:
        target = getattr(lib, field)
        if isinstance(target, Message):  # a wrapper (UInt32Value, ...)
            target.value = value  # type: ignore[attr-defined]
        elif isinstance(value, str):  # an enum, by its name
            enum = lib.DESCRIPTOR.fields_by_name[field].enum_type
            assert enum is not None, field
            setattr(lib, field, enum.values_by_name[value].number)
        else:
            setattr(lib, field, value)
    return extension_pb2.TypedExtensionConfig(name=extension, typed_config=to_any(lib))


def compressor_entries(algorithm: str, routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """The connection manager's compressor for `algorithm`, disabled until a route turns it on."""
    first = next(c for c in (compression_of(r, algorithm) for r in routes) if c is not None)
    config = compressor_pb2.Compressor(compressor_library=_library(ir.Compression(algorithm)))
    if first.min_content_length is not None:
        config.response_direction_config.common_config.min_content_length.value = first.min_content_length
    if first.preferred:
        config.choose_first = True
    return [hcm.HttpFilter(name=LIBRARIES[algorithm][0], typed_config=to_any(config), disabled=True)]


def compressor_per_route(r: ir.Route, algorithm: str) -> compressor_pb2.CompressorPerRoute:
    """What turns the compressor on for a route (with its own library settings if it has any)."""
    c = compression_of(r, algorithm)
    assert c is not None
    out = compressor_pb2.CompressorPerRoute()
    out.overrides.response_direction_config.SetInParent()
    if c.settings:
        out.overrides.compressor_library.CopyFrom(_library(c))
    return out
