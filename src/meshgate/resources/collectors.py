"""Where a telemetry collector is (a tracing provider, an OpenTelemetry access log sink), in
Envoy Gateway's shape: `host` and `port`, or `backendRefs`, of which meshgate supports one
Service port."""

from __future__ import annotations

from dataclasses import dataclass

from .fields import Fields

BACKEND_REFS_SCHEMA: dict = {"type": "array", "items": {"type": "object", "required": ["name", "port"], "properties": {
    "group": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"},
    "namespace": {"type": "string"}, "port": {"type": "integer", "minimum": 1, "maximum": 65535}}}}


@dataclass(frozen=True, slots=True)
class CollectorService:
    """A collector reached as a Service port (`backendRefs`; "" namespace: the parameters' own)."""

    name: str
    namespace: str
    port: int


def parse_collector_service(f: Fields) -> CollectorService | None:
    """`backendRefs` of `f`: one Service port (what meshgate supports of Envoy Gateway's list)."""
    refs = list(f.maps("backendRefs", max_items=1))
    if not refs:
        return None
    ref = refs[0]
    if (ref.str("group") or "", ref.str("kind") or "Service") != ("", "Service"):
        ref.error("kind", "only a Service (group \"\", kind Service) is supported")
        return None
    name, port = ref.str("name", required=True, min_len=1), ref.int("port", required=True, min=1, max=65535)
    return CollectorService(name, ref.str("namespace") or "", port) if name and port else None


@dataclass(frozen=True, slots=True)
class CollectorAddress:
    """`host` (and `port`, None when not given), or the Service named instead."""

    host: str
    port: int | None
    service: CollectorService | None


def parse_collector(f: Fields) -> CollectorAddress | None:
    """A collector's `host`/`port` or `backendRefs` (exactly one of them); None when neither is
    usable (errors are reported on `f`)."""
    service = parse_collector_service(f)
    if f.has("host") and f.has("backendRefs"):
        f.error("backendRefs", "give host or backendRefs, not both")
    host = f.str("host", min_len=1) or ""
    if not host and not f.has("backendRefs"):
        f.error("host", "required (or backendRefs)")
    port = f.int("port", min=1, max=65535)
    if host:
        return CollectorAddress(host, port, None)
    return CollectorAddress("", None, service) if service is not None else None
