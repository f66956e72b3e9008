"""meshgate's own kind: GatewayParameters (gateway.meshgate.io/v1alpha1), what a GatewayClass or a
Gateway names in `parametersRef` to shape its provisioned proxy. Smaller than Envoy Gateway's
EnvoyProxy and kgateway's GatewayParameters: replicas, image, log level, resources, the Service,
autoscaling and a disruption budget; and its proxies' tracing and access logs
(`telemetry.tracing`, `telemetry.accessLog`, in Envoy Gateway's shape, resources/tracing.py and
access_log.py). Its structural schema (SCHEMA) is the one source for strict
input checking (resources/schemas) and for the CRD `meshgate manifests` installs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .access_log import SCHEMA as ACCESS_LOG_SCHEMA
from .access_log import AccessLogging, parse_access_log
from .fields import Fields
from .meta import Meta, Source
from .tracing import SCHEMA as TRACING_SCHEMA
from .tracing import Tracing, parse_tracing

GROUP = "gateway.meshgate.io"
VERSION = "v1alpha1"
KIND = "GatewayParameters"
PLURAL = "gatewayparameters"
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")
SERVICE_TYPES = ("LoadBalancer", "ClusterIP", "NodePort")
# A Kubernetes quantity (cpu: 100m, 0.5; memory: 128Mi, 1G).
_QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?")
_PERCENT = re.compile(r"[0-9]+%")

_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_INT_OR_STRING = {"x-kubernetes-int-or-string": True}
SCHEMA: dict = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "replicas": {"type": "integer", "minimum": 0},
            "image": {"type": "string"},
            "logLevel": {"type": "string", "enum": list(LOG_LEVELS)},
            "resources": {"type": "object", "properties": {"requests": _STR_MAP, "limits": _STR_MAP}},
            "service": {"type": "object", "properties": {
                "type": {"type": "string", "enum": list(SERVICE_TYPES)},
                "annotations": _STR_MAP,
                "externalTrafficPolicy": {"type": "string", "enum": ["Cluster", "Local"]}}},
            "autoscaling": {"type": "object", "required": ["maxReplicas"], "properties": {
                "minReplicas": {"type": "integer", "minimum": 1},
                "maxReplicas": {"type": "integer", "minimum": 1},
                "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100}}},
            "podDisruptionBudget": {"type": "object", "properties": {
                "minAvailable": _INT_OR_STRING, "maxUnavailable": _INT_OR_STRING}},
            "telemetry": {"type": "object", "properties": {"tracing": TRACING_SCHEMA,
                                                           "accessLog": ACCESS_LOG_SCHEMA}},
        }},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


@dataclass(frozen=True, slots=True)
class Autoscaling:
    """A HorizontalPodAutoscaler on CPU."""

    min_replicas: int
    max_replicas: int
    cpu_percent: int


@dataclass(frozen=True, slots=True)
class GatewayParameters:
    """A GatewayParameters object: every field optional (what is unset comes from the class's
    parameters, then from meshgate's defaults)."""

    meta: Meta
    source: Source
    replicas: int | None = None
    image: str | None = None
    log_level: str | None = None
    requests: tuple[tuple[str, str], ...] | None = None
    limits: tuple[tuple[str, str], ...] | None = None
    service_type: str | None = None
    service_annotations: tuple[tuple[str, str], ...] | None = None
    external_traffic_policy: str | None = None
    autoscaling: Autoscaling | None = None
    min_available: int | str | None = None
    max_unavailable: int | str | None = None
    tracing: Tracing | None = None  # spec.telemetry.tracing (resources/tracing.py)
    access_log: AccessLogging | None = None  # spec.telemetry.accessLog (resources/access_log.py)
    kind = KIND


def _quantity(value: str) -> str | None:
    return None if _QUANTITY.fullmatch(value) else "must be a quantity such as 100m, 0.5, 128Mi or 1G"


def _budget(f: Fields, key: str) -> int | str | None:
    value = f.int_or_str(key)
    if isinstance(value, str) and not _PERCENT.fullmatch(value):
        f.error(key, f"invalid value {value!r}: must be a number or a percentage such as 50%")
        return None
    if isinstance(value, int) and value < 0:
        f.error(key, f"invalid value {value}: must be 0 or more")
        return None
    return value


def parse_gateway_parameters(f: Fields, meta: Meta, source: Source) -> GatewayParameters:
    """GatewayParameters.spec."""
    spec = f.map("spec")
    if spec is None:
        return GatewayParameters(meta, source)
    resources = spec.map("resources")
    requests = limits = None
    if resources is not None:
        if resources.has("requests"):
            requests = tuple(sorted(resources.str_map("requests").items()))
        if resources.has("limits"):
            limits = tuple(sorted(resources.str_map("limits").items()))
        for name, values in (("requests", requests), ("limits", limits)):
            for key, value in values or ():
                reason = _quantity(value)
                if reason:
                    resources.error(f"{name}.{key}", f"invalid value {value!r}: {reason}")
    service = spec.map("service")
    autoscaling = None
    hpa = spec.map("autoscaling")
    if hpa is not None:
        high = hpa.int("maxReplicas", required=True, min=1)
        low = hpa.int("minReplicas", min=1) or 1
        cpu = hpa.int("targetCPUUtilizationPercentage", min=1, max=100) or 80
        if high is not None and low > high:
            hpa.error("minReplicas", f"invalid value {low}: more than maxReplicas ({high})")
        elif high is not None:
            autoscaling = Autoscaling(low, high, cpu)
    pdb = spec.map("podDisruptionBudget")
    min_available = max_unavailable = None
    if pdb is not None:
        min_available, max_unavailable = _budget(pdb, "minAvailable"), _budget(pdb, "maxUnavailable")
        if min_available is not None and max_unavailable is not None:
            pdb.error("maxUnavailable", "give minAvailable or maxUnavailable, not both")
            max_unavailable = None
    return GatewayParameters(
        meta, source,
        replicas=spec.int("replicas", min=0),
        image=spec.str("image", min_len=1),
        log_level=spec.str("logLevel", enum=LOG_LEVELS),
        requests=requests, limits=limits,
        service_type=service.str("type", enum=SERVICE_TYPES) if service is not None else None,
        service_annotations=tuple(sorted(service.str_map("annotations").items()))
        if service is not None and service.has("annotations") else None,
        external_traffic_policy=service.str("externalTrafficPolicy", enum=("Cluster", "Local"))
        if service is not None else None,
        autoscaling=autoscaling, min_available=min_available, max_unavailable=max_unavailable,
        tracing=_tracing(spec),
        access_log=_access_log(spec),
    )


def _access_log(spec: Fields) -> AccessLogging | None:
    telemetry = spec.map("telemetry")
    access_log = telemetry.map("accessLog") if telemetry is not None else None
    return parse_access_log(access_log) if access_log is not None else None


def _tracing(spec: Fields) -> Tracing | None:
    telemetry = spec.map("telemetry")
    tracing = telemetry.map("tracing") if telemetry is not None else None
    return parse_tracing(tracing) if tracing is not None else None
