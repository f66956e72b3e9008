"""Service ports to Envoy Clusters (EDS)."""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import protocol_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as hpo

from ..discovery.model import PortModel
from ..discovery.protocols import HTTP2, upstream_protocol
from .common import ADS, duration_ms, to_any

CONNECT_TIMEOUT_MS = 10_000
_HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def cluster(name: str, port: PortModel) -> cluster_pb2.Cluster:
    """An EDS cluster for a service port; HTTP/2 upstream when the port's appProtocol says h2c."""
    out = cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.EDS,
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(eds_config=ADS),
        connect_timeout=duration_ms(CONNECT_TIMEOUT_MS),
        lb_policy=cluster_pb2.Cluster.ROUND_ROBIN,
    )
    if upstream_protocol(port) == HTTP2:
        options = hpo.HttpProtocolOptions(
            explicit_http_config=hpo.HttpProtocolOptions.ExplicitHttpConfig(
                http2_protocol_options=protocol_pb2.Http2ProtocolOptions()))
        out.typed_extension_protocol_options[_HTTP_OPTIONS_KEY].CopyFrom(to_any(options))
    return out
