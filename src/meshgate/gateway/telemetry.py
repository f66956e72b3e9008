"""What a Gateway's parameters say of its proxies' telemetry (GatewayParameters
`spec.telemetry`, the Gateway's own, else its class's, each block as a whole): tracing and access
logs as IR, and the clusters of the collectors named as Services (made of their endpoints, like
a UDPRoute's weighted cluster, so that endpoint changes take the endpoints path).

A collector Service in another namespace than the parameters needs a ReferenceGrant from
GatewayParameters; one that does not resolve gets no cluster (xds/telemetry.py then leaves out
what would name it).
"""

from __future__ import annotations

from .. import ir
from ..discovery.index import Discovery
from ..naming import TRACING_CLUSTER, access_log_collector
from ..resources import meshgate_kinds
from ..resources.access_log import AccessLogSink
from ..resources.collectors import CollectorService
from ..resources.gateway_api import Gateway, GatewayClass
from ..resources.meshgate_kinds import GatewayParameters
from ..store import Store
from .backends import service_cluster
from .infrastructure import parameters_layers
from .references import reference_permitted


def access_logs(gw: Gateway, store: Store, gc: GatewayClass | None = None,
                discovery: Discovery | None = None) -> tuple[ir.AccessLog, ...] | None:
    """The access logs of `gw`'s proxies: its own parameters' `telemetry.accessLog`, else its
    class's (as a whole); None when neither has one (meshgate's default log), () when it is off.
    A collector named as a Service is looked up in `discovery`."""
    params = next((p for p in parameters_layers(gw, store, gc) if p.access_log is not None), None)
    if params is None or params.access_log is None:
        return None
    found = params.access_log
    if found.disable:
        return ()
    if not found.settings:
        return None

    def sink(i: int, j: int, k: AccessLogSink) -> ir.AccessLogSink:
        if k.service is None:
            return ir.AccessLogSink(k.type, k.path, k.host, k.port, k.resources)
        collector = _collector(params, k.service, access_log_collector(i, j), discovery, store, grpc=True) \
            if discovery is not None else None
        return ir.AccessLogSink(k.type, k.path, _service_host(k.service, params), k.port, k.resources, collector,
                                service_backed=True)
    return tuple(ir.AccessLog(s.format, s.text, s.json, tuple(sink(i, j, k) for j, k in enumerate(s.sinks)),
                              s.matches)
                 for i, s in enumerate(found.settings))


def _collector(params: GatewayParameters, svc: CollectorService | None, name: str, discovery: Discovery,
               store: Store, grpc: bool) -> ir.WeightedCluster | None:
    """The cluster `name` made of a collector Service's endpoints, when the parameters name a
    Service port that exists (in another namespace: with a ReferenceGrant from GatewayParameters);
    None otherwise (what it would carry then goes nowhere)."""
    if svc is None:
        return None
    namespace = svc.namespace or params.meta.namespace
    if not reference_permitted(store, meshgate_kinds.GROUP, meshgate_kinds.KIND, params.meta.namespace,
                               "", "Service", namespace, svc.name):
        return None
    model = discovery.service(namespace, svc.name)
    if model is None or not any(p.number == svc.port for p in model.ports):
        return None
    source = ir.SourceRef(meshgate_kinds.KIND, f"{meshgate_kinds.GROUP}/{meshgate_kinds.VERSION}",
                          params.meta.namespace, params.meta.name)
    return ir.WeightedCluster(name, ((service_cluster(model, svc.port), 1),), source, http2=grpc)


def _service_host(svc: CollectorService, params: GatewayParameters) -> str:
    return f"{svc.name}.{svc.namespace or params.meta.namespace}.svc.cluster.local"


def tracing(gw: Gateway, store: Store, gc: GatewayClass | None = None,
            discovery: Discovery | None = None) -> ir.Tracing | None:
    """The tracing of `gw`'s proxies: its own parameters' `telemetry.tracing`, else its class's
    (the block as a whole, not field by field); None when neither has one. A collector named as a
    Service is looked up in `discovery`."""
    params = next((p for p in parameters_layers(gw, store, gc) if p.tracing is not None), None)
    if params is None or params.tracing is None:
        return None
    found = params.tracing
    tags = tuple(ir.TracingTag(t.name, t.type, t.value, t.default) for t in found.custom_tags)
    collector = _collector(params, found.service, TRACING_CLUSTER, discovery, store,
                           found.provider == "OpenTelemetry" and found.http_path is None) \
        if discovery is not None else None
    host = found.host or (_service_host(found.service, params) if found.service is not None else "")
    port = found.service.port if found.service is not None and not found.host else found.port
    return ir.Tracing(found.provider, host, port, found.service_name or f"{gw.meta.name}.{gw.meta.namespace}",
                      found.sampling_percent, tags, found.trace_id_128bit, found.shared_span_context, collector,
                      service_backed=found.service is not None and not found.host, http_path=found.http_path)


def collector_clusters(t: ir.Tracing | None,
                       logs: tuple[ir.AccessLog, ...] | None) -> tuple[ir.WeightedCluster, ...]:
    """The clusters a gateway's telemetry adds to its weighted ones (its collector Services')."""
    out = [t.collector] if t is not None and t.collector is not None else []
    out.extend(k.collector for log in logs or () for k in log.sinks if k.collector is not None)
    return tuple(out)
