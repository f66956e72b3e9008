"""TLS certificates to Envoy SDS Secrets: listeners' (from Gateway certificateRefs) and the client
certificates of MUTUAL DestinationRules."""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, secret_pb2

from ..ir import TLSSecret


def secret(s: TLSSecret) -> secret_pb2.Secret:
    """A TLS certificate secret, served inline."""
    return secret_pb2.Secret(
        name=s.name,
        tls_certificate=common_pb2.TlsCertificate(
            certificate_chain=base_pb2.DataSource(inline_bytes=s.certificate_chain),
            private_key=base_pb2.DataSource(inline_bytes=s.private_key),
        ),
    )
