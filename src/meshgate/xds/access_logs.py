"""A gateway's access logs (ir.AccessLog) as Envoy access loggers, and the clusters of their
OTLP collectors.

Without settings a proxy logs one JSON line per request on its stdout, naming the objects behind
the route, the cluster and the endpoint that served it (their xDS metadata). With settings,
each format goes to each of its sinks: a file (its path; /dev/stdout too), or an OpenTelemetry
collector over OTLP/gRPC, a cluster of its own per setting and sink (`meshgate-accesslog-<i>-<j>`:
to its host, or made of its Service's endpoints), the Text format as the record's body, the JSON
fields as its attributes.
"""

from __future__ import annotations

from envoy.config.accesslog.v3 import accesslog_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import grpc_service_pb2, substitution_format_string_pb2
from envoy.extensions.access_loggers.file.v3 import file_pb2
from envoy.extensions.access_loggers.filters.cel.v3 import cel_pb2
from envoy.extensions.access_loggers.grpc.v3 import als_pb2
from envoy.extensions.access_loggers.open_telemetry.v3 import logs_service_pb2
from envoy.extensions.access_loggers.stream.v3 import stream_pb2
from opentelemetry.proto.common.v1 import common_pb2

from .. import ir
from ..naming import access_log_collector
from .collectors import collector_cluster
from .common import to_any

# meshgate's default JSON fields (also the fields of a JSON setting that names none).
ACCESS_LOG_FORMAT = {
    "start_time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "authority": "%REQ(:AUTHORITY)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "upstream_cluster": "%UPSTREAM_CLUSTER_RAW%",  # not the statistics name (clusters.stat_name)
    "upstream_host": "%UPSTREAM_HOST%",
    "route_name": "%ROUTE_NAME%",
    "route_resources": "%METADATA(ROUTE:meshgate:resources)%",
    "cluster_resources": "%METADATA(CLUSTER:meshgate:resources)%",
    "endpoint_resources": "%METADATA(UPSTREAM_HOST:meshgate:resources)%",
}
LOG_NAME = "meshgate"


def _fields(log: ir.AccessLog) -> dict[str, str]:
    return dict(log.fields) if log.fields else ACCESS_LOG_FORMAT


def _format(log: ir.AccessLog) -> substitution_format_string_pb2.SubstitutionFormatString | None:
    """The line format; None for Text without a format string (Envoy's default)."""
    out = substitution_format_string_pb2.SubstitutionFormatString()
    if log.format == "JSON":
        out.json_format.update(_fields(log))
    elif log.text:
        out.text_format_source.inline_string = log.text if log.text.endswith("\n") else log.text + "\n"
    else:
        return None
    return out


def default_access_log() -> accesslog_pb2.AccessLog:
    """meshgate's access log: its JSON fields on the proxy's stdout."""
    fmt = substitution_format_string_pb2.SubstitutionFormatString()
    fmt.json_format.update(ACCESS_LOG_FORMAT)
    return accesslog_pb2.AccessLog(name="envoy.access_loggers.stdout",
                                   typed_config=to_any(stream_pb2.StdoutAccessLog(log_format=fmt)))


def _otel(log: ir.AccessLog, sink: ir.AccessLogSink, cluster: str) -> accesslog_pb2.AccessLog:
    config = logs_service_pb2.OpenTelemetryAccessLogConfig(
        common_config=als_pb2.CommonGrpcAccessLogConfig(
            log_name=LOG_NAME, transport_api_version=2,  # V3
            grpc_service=grpc_service_pb2.GrpcService(
                envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(cluster_name=cluster, authority=sink.host))))
    if log.format == "JSON":
        config.attributes.values.extend(common_pb2.KeyValue(key=k, value=common_pb2.AnyValue(string_value=v))
                                        for k, v in sorted(_fields(log).items()))
    else:
        config.body.string_value = log.text or "%START_TIME% %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% " \
                                               "%RESPONSE_CODE% %UPSTREAM_CLUSTER_RAW%"
    config.resource_attributes.values.extend(common_pb2.KeyValue(key=k, value=common_pb2.AnyValue(string_value=v))
                                             for k, v in sink.resources)
    return accesslog_pb2.AccessLog(name="envoy.access_loggers.open_telemetry", typed_config=to_any(config))


def _filter(matches: tuple[str, ...]) -> accesslog_pb2.AccessLogFilter | None:
    """Log only requests for which one of the CEL expressions holds (Envoy's CEL access log filter)."""
    filters = [accesslog_pb2.AccessLogFilter(extension_filter=accesslog_pb2.ExtensionFilter(
        name="envoy.access_loggers.extension_filters.cel", typed_config=to_any(cel_pb2.ExpressionFilter(expression=m))))
        for m in matches]
    if len(filters) > 1:
        return accesslog_pb2.AccessLogFilter(or_filter=accesslog_pb2.OrFilter(filters=filters))
    return filters[0] if filters else None


def access_loggers(logs: tuple[ir.AccessLog, ...] | None) -> tuple[accesslog_pb2.AccessLog, ...]:
    """The access loggers of every HTTP connection manager of a gateway (None: meshgate's default).
    An OpenTelemetry sink whose collector Service does not resolve is left out (no cluster to name)."""
    if logs is None:
        return (default_access_log(),)
    out: list[accesslog_pb2.AccessLog] = []
    for i, log in enumerate(logs):
        fmt = _format(log)
        only = _filter(log.matches)
        made: list[accesslog_pb2.AccessLog] = []
        for j, sink in enumerate(log.sinks):
            if sink.type == "File":
                file = file_pb2.FileAccessLog(path=sink.path)
                if fmt is not None:
                    file.log_format.CopyFrom(fmt)
                made.append(accesslog_pb2.AccessLog(name="envoy.access_loggers.file", typed_config=to_any(file)))
            elif sink.collector is not None:
                made.append(_otel(log, sink, sink.collector.name))
            elif not sink.service_backed:
                made.append(_otel(log, sink, access_log_collector(i, j)))
            # else: a collector Service that does not resolve has no cluster: left out
        if only is not None:
            for logger in made:
                logger.filter.CopyFrom(only)
        out.extend(made)
    return tuple(out)


def access_log_clusters(logs: tuple[ir.AccessLog, ...] | None) -> list[cluster_pb2.Cluster]:
    """The clusters of the OTLP collectors the access logs send to."""
    # A collector named as a Service is a weighted cluster of its endpoints (built with the others).
    return [collector_cluster(access_log_collector(i, j), sink.host, sink.port, grpc=True)
            for i, log in enumerate(logs or ()) for j, sink in enumerate(log.sinks)
            if sink.type == "OpenTelemetry" and not sink.service_backed]
