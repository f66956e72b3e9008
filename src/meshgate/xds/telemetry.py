"""What a gateway's telemetry settings put in each of its HTTP connection managers (tracing,
access loggers) and the collector clusters they need: made once per snapshot, shared by all its
listeners' filter chains."""

from __future__ import annotations

from dataclasses import dataclass

from envoy.config.accesslog.v3 import accesslog_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm

from .. import ir
from .access_logs import access_log_clusters, access_loggers, default_access_log
from .tracing import connection_tracing, tracing_cluster


@dataclass(frozen=True, slots=True)
class ConnectionTelemetry:
    """The tracing (None: off) and access loggers of a gateway's connection managers."""

    tracing: hcm.HttpConnectionManager.Tracing | None
    access_logs: tuple[accesslog_pb2.AccessLog, ...]


DEFAULT = ConnectionTelemetry(None, (default_access_log(),))


def connection_telemetry(cfg: ir.GatewayConfig) -> ConnectionTelemetry:
    """The telemetry of `cfg`'s connection managers. A collector named as a Service that does not
    resolve (missing, or in another namespace without a grant) has no cluster: its tracing or
    sink is left out rather than named, since Envoy refuses a listener whose Zipkin tracer names
    an unknown cluster (and what it would send could go nowhere anyway)."""
    if cfg.tracing is None and cfg.access_logs is None:
        return DEFAULT
    t = cfg.tracing
    traced = t is not None and not (t.service_backed and t.collector is None)
    return ConnectionTelemetry(connection_tracing(t) if traced and t is not None else None,
                               access_loggers(cfg.access_logs))


def telemetry_clusters(cfg: ir.GatewayConfig) -> list[cluster_pb2.Cluster]:
    """The collectors' clusters (tracing, OTLP access logs)."""
    # A collector named as a Service is a weighted cluster of its endpoints (built with the others).
    own = [tracing_cluster(cfg.tracing)] if cfg.tracing is not None and not cfg.tracing.service_backed else []
    return own + access_log_clusters(cfg.access_logs)
