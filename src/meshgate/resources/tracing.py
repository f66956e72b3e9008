"""Tracing settings of a GatewayParameters (`spec.telemetry.tracing`), in the shape of Envoy
Gateway's EnvoyProxy `spec.telemetry.tracing`: a provider (OpenTelemetry over gRPC, or Zipkin
over HTTP) at a host and port, a sampling rate in percent (or a fraction), and custom tags
(a literal, a request header or an environment variable of the proxy)."""

from __future__ import annotations

from dataclasses import dataclass

from .collectors import BACKEND_REFS_SCHEMA, CollectorService, parse_collector
from .fields import Fields

PROVIDERS = ("OpenTelemetry", "Zipkin")
PROTOCOLS = ("GRPC", "HTTP")  # how OpenTelemetry spans travel: OTLP over gRPC, or OTLP/HTTP (protobuf)
OTLP_HTTP_PATH = "/v1/traces"
TAG_TYPES = ("Literal", "RequestHeader", "Environment")
DEFAULT_PORTS = {"OpenTelemetry": 4317, "Zipkin": 9411}

_NAME_DEFAULT = {"type": "object", "required": ["name"],
                 "properties": {"name": {"type": "string"}, "defaultValue": {"type": "string"}}}
SCHEMA: dict = {
    "type": "object", "required": ["provider"],
    "properties": {
        "samplingRate": {"type": "integer", "minimum": 0, "maximum": 100},
        "samplingFraction": {"type": "object", "required": ["numerator"], "properties": {
            "numerator": {"type": "integer", "minimum": 0},
            "denominator": {"type": "integer", "minimum": 1}}},
        "customTags": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": list(TAG_TYPES)},
                "literal": {"type": "object", "required": ["value"], "properties": {"value": {"type": "string"}}},
                "requestHeader": _NAME_DEFAULT,
                "environment": _NAME_DEFAULT}}},
        "provider": {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": list(PROVIDERS)},
            "host": {"type": "string"},
            "backendRefs": BACKEND_REFS_SCHEMA,
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "serviceName": {"type": "string"},
            "protocol": {"type": "string", "enum": list(PROTOCOLS)},
            "path": {"type": "string"},
            "zipkin": {"type": "object", "properties": {
                "enable128BitTraceId": {"type": "boolean"},
                "disableSharedSpanContext": {"type": "boolean"}}}}},
    },
}


@dataclass(frozen=True, slots=True)
class CustomTag:
    """A span tag: `value` is the literal, or the request header's or environment variable's
    name (`default` when that is absent)."""

    name: str
    type: str
    value: str
    default: str = ""


@dataclass(frozen=True, slots=True)
class Tracing:
    """Where and how often a Gateway's proxies send spans: a `host` and `port`, or a Service."""

    provider: str
    host: str
    port: int
    sampling_percent: float = 100.0
    custom_tags: tuple[CustomTag, ...] = ()
    service_name: str = ""  # "" : the Gateway's "name.namespace", as Envoy Gateway names it
    trace_id_128bit: bool = False  # Zipkin
    shared_span_context: bool = True  # Zipkin
    service: CollectorService | None = None  # provider.backendRefs, instead of host and port
    # OpenTelemetry over OTLP/HTTP: the collector's path (provider.protocol HTTP); None: gRPC.
    http_path: str | None = None


def custom_tags(f: Fields) -> tuple[CustomTag, ...]:
    """`customTags` (by tag name, sorted)."""
    tags = f.map("customTags")
    out: list[CustomTag] = []
    if tags is None:
        return ()
    for name in sorted(str(k) for k in tags.data):
        tag = tags.map(name)
        if tag is None:
            continue
        kind = tag.str("type", required=True, enum=TAG_TYPES)
        if kind == "Literal":
            literal = tag.map("literal")
            if literal is None:
                tag.error("literal", "required for type Literal")
            else:
                out.append(CustomTag(name, kind, literal.str("value", required=True) or ""))
        elif kind is not None:
            key = "requestHeader" if kind == "RequestHeader" else "environment"
            source = tag.map(key)
            if source is None:
                tag.error(key, f"required for type {kind}")
            else:
                value = source.str("name", required=True, min_len=1)
                if value:
                    out.append(CustomTag(name, kind, value, source.str("defaultValue") or ""))
    return tuple(out)


def parse_tracing(f: Fields) -> Tracing | None:
    """`telemetry.tracing`, or None when it is invalid (its errors are reported on `f`)."""
    provider = f.map("provider")
    if provider is None:
        f.error("provider", "required")
        return None
    kind = provider.str("type", required=True, enum=PROVIDERS)
    collector = parse_collector(provider)
    rate = f.int("samplingRate", min=0, max=100)
    fraction = f.map("samplingFraction")
    percent = 100.0 if rate is None else float(rate)
    if fraction is not None:
        if f.has("samplingRate"):
            f.error("samplingFraction", "give samplingRate or samplingFraction, not both")
        numerator = fraction.int("numerator", required=True, min=0)
        denominator = fraction.int("denominator", min=1) or 100
        if numerator is not None and numerator > denominator:
            fraction.error("numerator", f"invalid value {numerator}: more than the denominator ({denominator})")
        elif numerator is not None:
            percent = 100.0 * numerator / denominator
    zipkin = provider.map("zipkin")
    tags = custom_tags(f)
    protocol = provider.str("protocol", enum=PROTOCOLS) or "GRPC"
    path = provider.str("path", min_len=1)
    if path is not None and not path.startswith("/"):
        provider.error("path", f"invalid path {path!r}: must start with /")
    if kind == "Zipkin" and provider.has("protocol"):
        provider.error("protocol", "only for the OpenTelemetry provider")
    if path is not None and protocol != "HTTP":
        provider.error("path", "only with protocol HTTP")
    http_path = (path or OTLP_HTTP_PATH) if kind == "OpenTelemetry" and protocol == "HTTP" else None
    default_port = 4318 if http_path is not None else DEFAULT_PORTS.get(kind or "", 0)
    if kind is None or collector is None:
        return None
    return Tracing(kind, collector.host, collector.port or default_port, percent, tags,
                   provider.str("serviceName") or "",
                   trace_id_128bit=bool(zipkin.bool("enable128BitTraceId")) if zipkin is not None else False,
                   shared_span_context=not (zipkin.bool("disableSharedSpanContext") if zipkin is not None else False),
                   service=collector.service, http_path=http_path)
