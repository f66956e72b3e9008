"""A gateway's tracing (ir.Tracing) as Envoy config: the connection managers' tracing settings
and the cluster of the collector.

OpenTelemetry spans go over gRPC (OTLP) to the collector, or as OTLP/HTTP protobuf to its path
(`/v1/traces` by default), Zipkin spans as JSON over HTTP to its `/api/v2/spans`; the collector is a cluster of its own, `meshgate-tracing` (STATIC for an IP
address, STRICT_DNS for a name). Envoy samples `sampling_percent` of the requests that carry no
sampling decision and adds the custom tags to every span, beside its own (the upstream cluster,
the HTTP method, URL and status) and meshgate's (the route's name and the objects that made it).
"""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import grpc_service_pb2, http_service_pb2, http_uri_pb2
from envoy.config.trace.v3 import http_tracer_pb2, opentelemetry_pb2, zipkin_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.type.tracing.v3 import custom_tag_pb2
from envoy.type.v3 import percent_pb2

from .. import ir
from ..naming import TRACING_CLUSTER
from .collectors import collector_cluster
from .common import duration_ms, to_any

ZIPKIN_PATH = "/api/v2/spans"


def span_tag(tag: ir.TracingTag) -> custom_tag_pb2.CustomTag:
    """A span tag as Envoy's custom tag."""
    out = custom_tag_pb2.CustomTag(tag=tag.name)
    if tag.type == "Literal":
        out.literal.value = tag.value
    elif tag.type == "RequestHeader":
        out.request_header.CopyFrom(custom_tag_pb2.CustomTag.Header(name=tag.value, default_value=tag.default))
    else:
        out.environment.CopyFrom(custom_tag_pb2.CustomTag.Environment(name=tag.value, default_value=tag.default))
    return out


def _provider(t: ir.Tracing) -> http_tracer_pb2.Tracing.Http:
    if t.provider == "OpenTelemetry" and t.http_path is not None:
        config = opentelemetry_pb2.OpenTelemetryConfig(
            http_service=http_service_pb2.HttpService(http_uri=http_uri_pb2.HttpUri(
                uri=f"http://{_authority(t)}{t.http_path}", cluster=TRACING_CLUSTER, timeout=duration_ms(1000))),
            service_name=t.service_name)
        return http_tracer_pb2.Tracing.Http(name="envoy.tracers.opentelemetry", typed_config=to_any(config))
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
        custom_tags=[*ROUTE_TAGS, *(span_tag(tag) for tag in t.tags)],
        provider=_provider(t))
    out.spawn_upstream_span.value = True  # a span per upstream request, naming the cluster it went to
    return out


def _authority(t: ir.Tracing) -> str:
    return f"[{t.host}]:{t.port}" if ":" in t.host else f"{t.host}:{t.port}"


def tracing_cluster(t: ir.Tracing) -> cluster_pb2.Cluster:
    """The collector's cluster (HTTP/2 for OTLP over gRPC)."""
    return collector_cluster(TRACING_CLUSTER, t.host, t.port, grpc=t.provider == "OpenTelemetry" and t.http_path is None)
