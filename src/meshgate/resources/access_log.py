"""Access log settings of a GatewayParameters (`spec.telemetry.accessLog`), in the shape of Envoy
Gateway's EnvoyProxy `spec.telemetry.accessLog`: logging off, or a list of settings, each a
format (Text with a format string, or JSON with a field → format-string map) written to its
sinks (a File path, /dev/stdout included, or an OpenTelemetry collector over OTLP/gRPC)."""

from __future__ import annotations

from dataclasses import dataclass

from .collectors import BACKEND_REFS_SCHEMA, CollectorService, parse_collector
from .fields import Fields

FORMATS = ("Text", "JSON")
SINKS = ("File", "OpenTelemetry")
OTLP_PORT = 4317

_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
SCHEMA: dict = {
    "type": "object",
    "properties": {
        "disable": {"type": "boolean"},
        "settings": {"type": "array", "items": {
            "type": "object", "required": ["sinks"], "properties": {
                "matches": {"type": "array", "items": {"type": "string"}},
                "format": {"type": "object", "required": ["type"], "properties": {
                    "type": {"type": "string", "enum": list(FORMATS)},
                    "text": {"type": "string"},
                    "json": _STR_MAP}},
                "sinks": {"type": "array", "items": {
                    "type": "object", "required": ["type"], "properties": {
                        "type": {"type": "string", "enum": list(SINKS)},
                        "file": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}},
                        "openTelemetry": {"type": "object", "properties": {
                            "host": {"type": "string"},
                            "backendRefs": BACKEND_REFS_SCHEMA,
                            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                            "resources": _STR_MAP}}}}}}}},
    },
}


@dataclass(frozen=True, slots=True)
class AccessLogSink:
    """Where records go: a file (`path`), or an OTLP collector (`host`:`port`, with resource attributes)."""

    type: str
    path: str = ""
    host: str = ""
    port: int = OTLP_PORT
    resources: tuple[tuple[str, str], ...] = ()
    service: CollectorService | None = None  # openTelemetry.backendRefs, instead of host and port


@dataclass(frozen=True, slots=True)
class AccessLogSetting:
    """One format written to its sinks. Text without `text`: Envoy's default format; JSON
    without fields: meshgate's (its xDS metadata included)."""

    format: str
    text: str = ""
    json: tuple[tuple[str, str], ...] = ()
    sinks: tuple[AccessLogSink, ...] = ()
    matches: tuple[str, ...] = ()  # CEL expressions: a request is logged when one holds (none: every request)


@dataclass(frozen=True, slots=True)
class AccessLogging:
    """`telemetry.accessLog`: off, or these settings (none given: meshgate's default log)."""

    disable: bool = False
    settings: tuple[AccessLogSetting, ...] = ()


def _sink(f: Fields) -> AccessLogSink | None:
    kind = f.str("type", required=True, enum=SINKS)
    if kind == "File":
        file = f.map("file")
        if file is None:
            f.error("file", "required for type File")
            return None
        path = file.str("path", required=True, min_len=1)
        return AccessLogSink(kind, path=path) if path else None
    if kind == "OpenTelemetry":
        otel = f.map("openTelemetry")
        if otel is None:
            f.error("openTelemetry", "required for type OpenTelemetry")
            return None
        collector = parse_collector(otel)
        resources = tuple(sorted(otel.str_map("resources").items())) if otel.has("resources") else ()
        if collector is None:
            return None
        if collector.service is not None:
            return AccessLogSink(kind, port=collector.service.port, resources=resources, service=collector.service)
        return AccessLogSink(kind, host=collector.host, port=collector.port or OTLP_PORT, resources=resources)
    return None


def _setting(f: Fields) -> AccessLogSetting | None:
    fmt = f.map("format")
    kind = fmt.str("type", required=True, enum=FORMATS) if fmt is not None else "JSON"
    text = fmt.str("text") or "" if fmt is not None else ""
    fields = tuple(sorted(fmt.str_map("json").items())) if fmt is not None and fmt.has("json") else ()
    if fmt is not None and kind == "Text" and fields:
        fmt.error("json", "only for type JSON")
    if fmt is not None and kind == "JSON" and text:
        fmt.error("text", "only for type Text")
    sinks = [sink for sf in f.maps("sinks", required=True, min_items=1) if (sink := _sink(sf)) is not None]
    matches = f.strs("matches") or []
    for i, m in enumerate(matches):
        if not m.strip():
            f.error(f"matches[{i}]", "must be a CEL expression, got an empty string")
    if kind is None or not sinks:
        return None
    return AccessLogSetting(kind, text if kind == "Text" else "", fields if kind == "JSON" else (), tuple(sinks),
                            tuple(m for m in matches if m.strip()))


def parse_access_log(f: Fields) -> AccessLogging:
    """`telemetry.accessLog`; its invalid settings are reported on `f` and left out."""
    settings = [setting for sf in f.maps("settings") if (setting := _setting(sf)) is not None]
    return AccessLogging(bool(f.bool("disable")), tuple(settings))
