"""What meshgate creates for a Gateway, and what it is told about it (GEP-1762, GEP-1867).

`spec.infrastructure.labels` and `.annotations` go on everything created for the Gateway. Here
that is its managed Envoy (`meshgate run`): the labels are the proxy's labels (node metadata
`meshgate.io/labels`, what DestinationRule workloadSelectors and failoverPriority read) and the
annotations its `meshgate.io/annotations`. The IR carries both (`ir.Infrastructure`), with the
`gateway.networking.k8s.io/gateway-name` and `gateway-class-name` labels GEP-1762 asks for (they
win over a Gateway label of the same key), so that a Kubernetes provisioner puts the same on
the Deployment, Pods, Service and ServiceAccount.

parametersRef (GatewayClass `spec.parametersRef`, Gateway `spec.infrastructure.parametersRef`):
meshgate reads GatewayParameters (gateway.meshgate.io, resources/meshgate_kinds.py), which shape
the provisioned proxy (replicas, image, resources, Service, autoscaling, disruption budget). A
Gateway's own parameters override its class's field by field. A reference to another kind, or to
a GatewayParameters that does not exist or is invalid, makes the referrer not Accepted
(InvalidParameters), as the spec says; a Gateway of such a class is not accepted either.
"""

from __future__ import annotations

import dataclasses

from .. import ir
from ..discovery.index import Discovery
from ..naming import TRACING_CLUSTER, access_log_collector
from ..resources import meshgate_kinds
from ..resources.access_log import AccessLogSink
from ..resources.collectors import CollectorService
from ..resources.gateway_api import Gateway, GatewayClass, ParametersRef
from ..resources.meshgate_kinds import GatewayParameters
from ..store import Store
from .backends import service_cluster
from .references import reference_permitted

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
GATEWAY_CLASS_LABEL = "gateway.networking.k8s.io/gateway-class-name"

# (group, kind) of the resources meshgate reads as parameters.
PARAMETER_KINDS: frozenset[tuple[str, str]] = frozenset({(meshgate_kinds.GROUP, meshgate_kinds.KIND)})


def _referent(store: Store, ref: ParametersRef, namespace: str) -> GatewayParameters | None:
    found = store.get(meshgate_kinds.KIND, ref.namespace or namespace, ref.name)
    return found if isinstance(found, GatewayParameters) else None


def parameters_problem(ref: ParametersRef | None, store: Store, namespace: str = "") -> str | None:
    """Why a parametersRef is invalid (the message of an InvalidParameters condition), or None.
    `namespace`: the referrer's (a Gateway's); a GatewayClass's reference names its own."""
    if ref is None:
        return None
    if (ref.group, ref.kind) not in PARAMETER_KINDS:
        return (f"parametersRef {ref.describe()}: unsupported kind (meshgate reads "
                f"{meshgate_kinds.GROUP}/{meshgate_kinds.KIND})")
    if not (ref.namespace or namespace):
        return f"parametersRef {ref.describe()}: {meshgate_kinds.KIND} is namespaced: give its namespace"
    if _referent(store, ref, namespace) is None:
        return f"parametersRef {ref.describe()}: not found (or invalid: see its input errors)"
    return None


def _merged(*layers: GatewayParameters | None) -> ir.ProxyParameters:
    out = ir.ProxyParameters()
    for p in layers:
        if p is None:
            continue
        fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(ir.ProxyParameters)
                  if f.name != "autoscaling" and getattr(p, f.name) is not None}
        if p.autoscaling is not None:
            a = p.autoscaling
            fields["autoscaling"] = (a.min_replicas, a.max_replicas, a.cpu_percent)
        out = dataclasses.replace(out, **fields)
    return out


def infrastructure(gw: Gateway, store: Store, gc: GatewayClass | None = None) -> ir.Infrastructure:
    """The labels, annotations and proxy parameters of what is created for `gw` (of class `gc`)."""
    labels = dict(gw.infrastructure.labels)
    labels[GATEWAY_NAME_LABEL] = gw.meta.name
    labels[GATEWAY_CLASS_LABEL] = gw.class_name
    class_ref = gc.parameters_ref if gc is not None else None
    own_ref = gw.infrastructure.parameters_ref
    params = _merged(_referent(store, class_ref, "") if class_ref is not None else None,
                     _referent(store, own_ref, gw.meta.namespace) if own_ref is not None else None)
    return ir.Infrastructure(tuple(sorted(labels.items())), gw.infrastructure.annotations, params)


def _layers(gw: Gateway, store: Store, gc: GatewayClass | None) -> list[GatewayParameters]:
    """The Gateway's own parameters, then its class's (those that exist)."""
    layers = [_referent(store, gw.infrastructure.parameters_ref, gw.meta.namespace)
              if gw.infrastructure.parameters_ref is not None else None,
              _referent(store, gc.parameters_ref, "") if gc is not None and gc.parameters_ref is not None else None]
    return [p for p in layers if p is not None]


def access_logs(gw: Gateway, store: Store, gc: GatewayClass | None = None,
                discovery: Discovery | None = None) -> tuple[ir.AccessLog, ...] | None:
    """The access logs of `gw`'s proxies: its own parameters' `telemetry.accessLog`, else its
    class's (as a whole); None when neither has one (meshgate's default log), () when it is off.
    A collector named as a Service is looked up in `discovery`."""
    params = next((p for p in _layers(gw, store, gc) if p.access_log is not None), None)
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
    return tuple(ir.AccessLog(s.format, s.text, s.json, tuple(sink(i, j, k) for j, k in enumerate(s.sinks)))
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
    params = next((p for p in _layers(gw, store, gc) if p.tracing is not None), None)
    if params is None or params.tracing is None:
        return None
    found = params.tracing
    tags = tuple(ir.TracingTag(t.name, t.type, t.value, t.default) for t in found.custom_tags)
    collector = _collector(params, found.service, TRACING_CLUSTER, discovery, store,
                           found.provider == "OpenTelemetry") if discovery is not None else None
    host = found.host or (_service_host(found.service, params) if found.service is not None else "")
    port = found.service.port if found.service is not None and not found.host else found.port
    return ir.Tracing(found.provider, host, port, found.service_name or f"{gw.meta.name}.{gw.meta.namespace}",
                      found.sampling_percent, tags, found.trace_id_128bit, found.shared_span_context, collector,
                      service_backed=found.service is not None and not found.host)


def collector_clusters(t: ir.Tracing | None,
                       logs: tuple[ir.AccessLog, ...] | None) -> tuple[ir.WeightedCluster, ...]:
    """The clusters a gateway's telemetry adds to its weighted ones (its collector Services')."""
    out = [t.collector] if t is not None and t.collector is not None else []
    out.extend(k.collector for log in logs or () for k in log.sinks if k.collector is not None)
    return tuple(out)
