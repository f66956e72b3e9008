"""A telemetry collector named as a Service port (`backendRefs` of a tracing provider or an
OpenTelemetry access log sink, in Envoy Gateway's shape): what meshgate supports of that list is
one Service port."""

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
