"""Clusters of the telemetry collectors a gateway's proxies send to (tracing, OTLP access logs):
one per collector address, STATIC for an IP address, STRICT_DNS for a name; HTTP/2 for gRPC."""

from __future__ import annotations

import ipaddress

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, protocol_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as hpo

from .common import duration_ms, to_any

_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def collector_cluster(name: str, host: str, port: int, grpc: bool) -> cluster_pb2.Cluster:
    """The cluster `name` of the collector at `host`:`port` (`grpc`: it speaks HTTP/2)."""
    try:
        ipaddress.ip_address(host)
        kind = cluster_pb2.Cluster.STATIC
    except ValueError:
        kind = cluster_pb2.Cluster.STRICT_DNS
    out = cluster_pb2.Cluster(name=name, type=kind, connect_timeout=duration_ms(1000))
    out.load_assignment.CopyFrom(endpoint_pb2.ClusterLoadAssignment(
        cluster_name=name,
        endpoints=[endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[endpoint_components_pb2.LbEndpoint(
            endpoint=endpoint_components_pb2.Endpoint(address=address_pb2.Address(
                socket_address=address_pb2.SocketAddress(address=host, port_value=port))))])]))
    if grpc:
        http2(out)
    return out


def http2(c: cluster_pb2.Cluster) -> None:
    """Make the cluster speak HTTP/2 to its endpoints (gRPC)."""
    options = hpo.HttpProtocolOptions(explicit_http_config=hpo.HttpProtocolOptions.ExplicitHttpConfig(
        http2_protocol_options=protocol_pb2.Http2ProtocolOptions()))
    c.typed_extension_protocol_options[_HTTP_OPTIONS].CopyFrom(to_any(options))
