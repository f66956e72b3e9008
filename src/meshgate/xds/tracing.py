"""A gateway's tracing (ir.Tracing) as Envoy config: the connection managers' tracing settings
and the cluster of the collector.

OpenTelemetry spans go over gRPC (OTLP) to the collector, Zipkin spans as JSON over HTTP to its
`/api/v2/spans`; the collector is a cluster of its own, `meshgate-tracing` (STATIC for an IP
address, STRICT_DNS for a name). Envoy samples `sampling_percent` of the requests that carry no
sampling decision and adds the custom tags to every span, beside its own (the upstream cluster,
the HTTP method, URL and status) and meshgate's (the route's name and the objects that made it).
"""

from __future__ import annotations

import ipaddress

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, grpc_service_pb2, protocol_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.trace.v3 import http_tracer_pb2, opentelemetry_pb2, zipkin_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as hpo
from envoy.type.tracing.v3 import custom_tag_pb2
from envoy.type.v3 import percent_pb2

from .. import ir
from .common import duration_ms, to_any

TRACING_CLUSTER = "meshgate-tracing"
ZIPKIN_PATH = "/api/v2/spans"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _tag(tag: ir.TracingTag) -> custom_tag_pb2.CustomTag:
    out = custom_tag_pb2.CustomTag(tag=tag.name)
    if tag.type == "Literal":
        out.literal.value = tag.value
    elif tag.type == "RequestHeader":
        out.request_header.CopyFrom(custom_tag_pb2.CustomTag.Header(name=tag.value, default_value=tag.default))
    else:
        out.environment.CopyFrom(custom_tag_pb2.CustomTag.Environment(name=tag.value, default_value=tag.default))
    return out


def _provider(t: ir.Tracing) -> http_tracer_pb2.Tracing.Http:
    if t.provider == "OpenTelemetry":
        config = opentelemetry_pb2.OpenTelemetryConfig(
            grpc_service=grpc_service_pb2.GrpcService(
                envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(cluster_name=TRACING_CLUSTER, authority=t.host)),
            service_name=t.service_name)
        return http_tracer_pb2.Tracing.Http(name="envoy.tracers.opentelemetry", typed_config=to_any(config))
    zipkin = zipkin_pb2.ZipkinConfig(
        collector_cluster=TRACING_CLUSTER, collector_endpoint=ZIPKIN_PATH, collector_hostname=t.host,
        collector_endpoint_version=zipkin_pb2.ZipkinConfig.HTTP_JSON, trace_id_128bit=t.trace_id_128bit)
    zipkin.shared_span_context.value = t.shared_span_context
    return http_tracer_pb2.Tracing.Http(name="envoy.tracers.zipkin", typed_config=to_any(zipkin))


# Tags on every span, beside Envoy's own: the route that matched and the objects that made it
# (its xDS metadata), so that a trace leads back to the HTTPRoute rule.
ROUTE_TAGS = (custom_tag_pb2.CustomTag(tag="meshgate.route", value="%ROUTE_NAME%"),
              custom_tag_pb2.CustomTag(tag="meshgate.route_resources", value="%METADATA(ROUTE:meshgate:resources)%"))


def connection_tracing(t: ir.Tracing) -> hcm.HttpConnectionManager.Tracing:
    """The tracing settings of a gateway's HTTP connection managers."""
    out = hcm.HttpConnectionManager.Tracing(
        random_sampling=percent_pb2.Percent(value=t.sampling_percent),
        custom_tags=[*ROUTE_TAGS, *(_tag(tag) for tag in t.tags)],
        provider=_provider(t))
    out.spawn_upstream_span.value = True  # a span per upstream request, naming the cluster it went to
    return out


def tracing_cluster(t: ir.Tracing) -> cluster_pb2.Cluster:
    """The collector's cluster (HTTP/2 for OTLP over gRPC)."""
    try:
        ipaddress.ip_address(t.host)
        kind = cluster_pb2.Cluster.STATIC
    except ValueError:
        kind = cluster_pb2.Cluster.STRICT_DNS
    out = cluster_pb2.Cluster(name=TRACING_CLUSTER, type=kind, connect_timeout=duration_ms(1000))
    out.load_assignment.CopyFrom(endpoint_pb2.ClusterLoadAssignment(
        cluster_name=TRACING_CLUSTER,
        endpoints=[endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[endpoint_components_pb2.LbEndpoint(
            endpoint=endpoint_components_pb2.Endpoint(address=address_pb2.Address(
                socket_address=address_pb2.SocketAddress(address=t.host, port_value=t.port))))])]))
    if t.provider == "OpenTelemetry":
        options = hpo.HttpProtocolOptions(explicit_http_config=hpo.HttpProtocolOptions.ExplicitHttpConfig(
            http2_protocol_options=protocol_pb2.Http2ProtocolOptions()))
        out.typed_extension_protocol_options[_HTTP_OPTIONS].CopyFrom(to_any(options))
    return out
