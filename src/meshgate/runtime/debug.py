"""The debug endpoint on loopback (aiohttp): health, readiness, Prometheus metrics, each
gateway's current config, proxies, status and input problems, as JSON.

GET /healthz                      200 while the process and its event loop answer
GET /readyz                       200 once the initial load is translated and xDS listens; else 503 and why
GET /metrics                      Prometheus text format (meshgate's, the process's, build info)
GET /debug/config?gateway=NS/NAME the resources served to that gateway's proxies (keys redacted)
GET /debug/proxies                connected proxies: per type, ACKed version, NACKs and last error
GET /debug/status                 Kubernetes-shaped status, input problems and proxies

HEAD is answered too. It runs on the event loop, so it reads the cache between changes, never
halfway through one. It holds at most `max_connections` connections: when full, a new one
replaces the oldest connection that is not in a request, or is closed at once when every one
is; a connection idle for `idle_timeout` seconds (before its first request or between two) is
closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from google.protobuf.json_format import MessageToDict

from ..xds.cache import SnapshotCache
from ..xds.output import redact
from ..xds.resources import PUSH_ORDER, SHORT_NAMES
from ..xds.streams import StreamRegistry
from .controller import ControlPlane
from .live_status import live_status
from .metrics import Metrics

log = logging.getLogger("meshgate.debug")

MAX_CONNECTIONS = 64
IDLE_TIMEOUT_S = 5.0
ROUTES = ("/healthz, /readyz, /metrics, /metrics/envoy, /debug/config?gateway=NS/NAME, /debug/proxies, "
          "/debug/status")
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes


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


@dataclass(slots=True)
class Readiness:
    """What /readyz waits for; the runner sets each as it happens."""

    loaded: bool = False  # the initial load is translated
    xds: str = ""  # HOST:PORT the xDS server listens on, once it does

    def reason(self) -> str | None:
        """Why not ready, or None when ready."""
        if not self.loaded:
            return "the initial load is not translated yet"
        if not self.xds:
            return "the xDS server is not listening yet"
        return None


class DebugServer:
    """Serves the debug endpoints for one control plane."""

    def __init__(self, control: ControlPlane, registry: StreamRegistry, metrics: Metrics,
                 readiness: Readiness | None = None, max_connections: int = MAX_CONNECTIONS,
                 idle_timeout: float = IDLE_TIMEOUT_S,
                 envoy_stats: Callable[[], Awaitable[str]] | None = None) -> None:
        """`envoy_stats` gives the managed Envoys' statistics for /metrics/envoy (None: there are
        none to give, `meshgate serve`)."""
        self.control = control
        self.envoy_stats = envoy_stats
        self.registry = registry
        self.metrics = metrics
        self.readiness = readiness if readiness is not None else Readiness()
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._runner: web.AppRunner | None = None
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task | None = None
        self._busy: set[RequestHandler] = set()  # connections between a request and the end of its response
        self.port = 0

    async def start(self, address: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the bound port."""
        app = web.Application(middlewares=[self._track])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/metrics/envoy", self._envoy_metrics)
        app.router.add_get("/debug/config", self._config)
        app.router.add_get("/debug/proxies", self._proxies)
        app.router.add_get("/debug/status", self._status)
        # keepalive_timeout also closes a connection that sends nothing after connecting.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0,
                                     keepalive_timeout=self.idle_timeout)
        await self._runner.setup()
        # Our own accept loop rather than a TCPSite: one connection is set up at a time, so that
        # the count the cap compares with is exact (a server's batch of accepts would outrun it).
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self._listener = socket.create_server((address, port), family=family)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._accepting = asyncio.ensure_future(self._accept(self._listener))
        return self.port

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        if self._listener is not None:
            self._listener.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def connections(self) -> int:
        """Connections currently held open."""
        server = self._runner.server if self._runner is not None else None
        return 0 if server is None else sum(1 for h in server.connections if h.transport is not None)

    async def _accept(self, listener: socket.socket) -> None:
        """Accept connections one by one; make room under the cap or close the newcomer."""
        assert self._runner is not None and self._runner.server is not None
        server = self._runner.server
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as exc:  # out of fds, say: keep the endpoint alive, try again shortly
                log.warning("debug endpoint: cannot accept a connection: %s", exc)
                await asyncio.sleep(0.1)
                continue
            live = [h for h in server.connections if h.transport is not None]  # force-closed ones leave later
            if len(live) >= self.max_connections:
                idle = next((h for h in live if h not in self._busy), None)  # oldest first
                if idle is None:
                    log.debug("debug endpoint: %d connections, all busy; closing a new one", len(live))
                    conn.close()
                    continue
                idle.force_close()
            try:
                await loop.connect_accepted_socket(server, conn)  # returns once aiohttp holds it
            except OSError as exc:
                log.debug("debug endpoint: a connection failed at once: %s", exc)
                conn.close()

    @web.middleware
    async def _track(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Mark the connection busy until its response is written (so it is not the one replaced)."""
        conn = request.protocol
        self._busy.add(conn)
        try:
            try:
                response = await handler(request)
            except web.HTTPNotFound:
                response = web.Response(status=404, text=f"not found: try {ROUTES}\n")
            except web.HTTPException as exc:
                response = web.Response(status=exc.status, reason=exc.reason, text=exc.text, headers=exc.headers)
            await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            self._busy.discard(conn)

    # -- routes -------------------------------------------------------------------------------
    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        reason = self.readiness.reason()
        if reason is None:
            return _json({"ready": True, "xds": self.readiness.xds})
        return _json({"ready": False, "reason": reason}, status=503)

    async def _metrics(self, request: web.Request) -> web.Response:
        # In a worker thread: the first scrape runs `envoy --version` (build info).
        body = await asyncio.get_running_loop().run_in_executor(None, self.metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": METRICS_TYPE})

    async def _envoy_metrics(self, request: web.Request) -> web.Response:
        if self.envoy_stats is None:
            return web.Response(status=404, text="no managed Envoys here (meshgate run manages them)\n")
        return web.Response(body=(await self.envoy_stats()).encode(), headers={"Content-Type": METRICS_TYPE})

    async def _config(self, request: web.Request) -> web.Response:
        gateway = request.query.get("gateway", "")
        if gateway not in self.control.cache.gateways():
            known = ", ".join(self.control.cache.gateways()) or "none"
            return _json({"error": f"no gateway {gateway!r}; known: {known}"}, status=404)
        return _json(config_dump(self.control.cache, gateway))

    async def _proxies(self, request: web.Request) -> web.Response:
        return _json([s.to_dict() for s in self.registry.all()])

    async def _status(self, request: web.Request) -> web.Response:
        await self.control.ready()  # not while a change set is half applied off the event loop
        return _json({
            "status": live_status(self.control, self.registry.all()),
            "errors": [e.to_dict() for e in self.control.errors],
            "proxies": [s.to_dict() for s in self.registry.all()],
        })


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=(json.dumps(data, indent=2) + "\n").encode(),
                        content_type="application/json")
