"""The bounds of what one xDS client may ask of the server (`meshgate serve/run --max-...`).

The checks that hold requests to them are in checks.py; this module stays free of gRPC so that
the command line can read the defaults cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

# Longest resource name, version or nonce a client may send (bytes of UTF-8). meshgate's own
# names are far shorter (a cluster is "outbound|PORT|SUBSET|HOST", a host at most 253 bytes).
MAX_NAME_BYTES = 4096
# Envoy's error detail of a NACK is kept on the stream and logged up to this many characters.
MAX_NACK_MESSAGE = 4096


@dataclass(frozen=True, slots=True)
class XdsLimits:
    """Per-client bounds of the xDS server (`meshgate serve/run --max-...`)."""

    max_node_metadata_bytes: int = 64 * 1024  # serialized `node.metadata` of the first request
    max_resource_names: int = 100_000  # names subscribed on one stream, all types together
    max_views: int = 10_000  # per-client views (cache entries for a locality or label set)

