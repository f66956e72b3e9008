"""The debug endpoint on loopback: Prometheus metrics, each gateway's current config, proxies,
status and input problems, as JSON.

GET /metrics                      Prometheus text format
GET /debug/config?gateway=NS/NAME the resources served to that gateway's proxies (keys redacted)
GET /debug/proxies                connected proxies: per type, ACKed version, NACKs and last error
GET /debug/status                 Kubernetes-shaped status, input problems and proxies

It runs on the event loop (asyncio streams), so it reads the cache between changes, never
halfway through one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlsplit

from google.protobuf.json_format import MessageToDict

from ..xds.cache import SnapshotCache
from ..xds.output import redact
from ..xds.resources import PUSH_ORDER, SHORT_NAMES
from ..xds.streams import StreamRegistry
from .controller import ControlPlane
from .metrics import Metrics

log = logging.getLogger("meshgate.debug")


def config_dump(cache: SnapshotCache, gateway: str) -> dict:
    """A gateway's served resources as proto3 JSON by xDS type (private keys redacted)."""
    entry = cache.entry(gateway)
    out: dict = {"gateway": gateway, "revision": entry.revision}
    for type_url in PUSH_ORDER:
        items = []
        for name, res in sorted(entry.resources[type_url].items()):
            body = redact(MessageToDict(res.body, preserving_proto_field_name=True))
            items.append({"name": name, "version": res.version, "resource": body})
        out[SHORT_NAMES[type_url]] = {"version": entry.version(type_url), "resources": items}
    return out


class DebugServer:
    """Serves the debug endpoints for one control plane."""

    def __init__(self, control: ControlPlane, registry: StreamRegistry, metrics: Metrics) -> None:
        self.control = control
        self.registry = registry
        self.metrics = metrics
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self, address: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the bound port."""
        self._server = await asyncio.start_server(self._handle, address, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def route(self, target: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `target`."""
        url = urlsplit(target)
        query = parse_qs(url.query)
        if url.path == "/metrics":
            return 200, "text/plain; version=0.0.4", self.metrics.exposition()
        if url.path == "/debug/config":
            gateway = (query.get("gateway") or [""])[0]
            if gateway not in self.control.cache.gateways():
                known = ", ".join(self.control.cache.gateways()) or "none"
                return 404, "application/json", _json({"error": f"no gateway {gateway!r}; known: {known}"})
            return 200, "application/json", _json(config_dump(self.control.cache, gateway))
        if url.path == "/debug/proxies":
            return 200, "application/json", _json([s.to_dict() for s in self.registry.all()])
        if url.path == "/debug/status":
            return 200, "application/json", _json({
                "status": self.control.status,
                "errors": [e.to_dict() for e in self.control.errors],
                "proxies": [s.to_dict() for s in self.registry.all()],
            })
        return 404, "text/plain", b"not found: try /metrics, /debug/config?gateway=NS/NAME, /debug/proxies, /debug/status\n"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed
            parts = request_line.decode("latin-1").split()
            if len(parts) != 3 or parts[0] != "GET":
                status, ctype, body = 405, "text/plain", b"only GET\n"
            else:
                status, ctype, body = self.route(parts[1])
            head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("debug request failed: %s", exc)
        finally:
            writer.close()


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()
