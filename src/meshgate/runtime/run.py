"""`meshgate run` and `meshgate serve`: the control plane as a process.

run = xDS server + file watcher + debug/metrics endpoint + one managed Envoy per Gateway
(+ echo backends for loopback endpoints, on request). serve = the same without Envoys.
Everything it starts is stopped on SIGINT/SIGTERM. xDS is mutual TLS when the options give a
server certificate (`xds_tls`) or ask for run's own CA (`managed_tls`: the managed Envoys get a
client certificate each); plaintext is only allowed on loopback unless `insecure_xds`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from ..envoy.bootstrap import XdsClientTLS, ads_bootstrap
from ..envoy.process import ManagedEnvoy
from ..ir import GatewayConfig
from ..providers.files import FileProvider
from ..xds.cache import SnapshotCache
from ..xds.limits import XdsLimits
from ..xds.server import AggregatedDiscoveryService, start_server
from ..xds.streams import StreamRegistry
from ..xds.tls import ServerTLS, is_loopback
from .address_pool import AddressPool
from .controller import ControlPlane
from .debug import DebugServer
from .metrics import Metrics
from .pki import MANAGED_SERVER_NAME, ManagedPKI

if TYPE_CHECKING:
    from ..echo import EchoServer  # imported when echo backends are asked for

log = logging.getLogger("meshgate.run")


@dataclass
class RunOptions:
    """How to run."""

    paths: list[str]
    xds_address: str = "127.0.0.1"
    xds_port: int = 18000
    debug_port: int = 18001
    delta: bool = True
    envoys: bool = True  # one managed Envoy per Gateway
    echo: bool = False  # echo backends on the loopback endpoints of EndpointSlices
    workdir: Path | None = None
    envoy_log_level: str = "warning"
    ingress_use_waypoints: bool = True
    address_pool: str | None = None  # CIDR: Gateways without spec.addresses get one address each
    xds_limits: XdsLimits = field(default_factory=XdsLimits)  # what one xDS client may ask for
    xds_tls: ServerTLS | None = None  # the operator's server certificate and client CA
    managed_tls: bool = False  # a CA in workdir/pki; managed Envoys use mTLS with a certificate each
    insecure_xds: bool = False  # allow plaintext xDS on a non-loopback address

    def plaintext_refusal(self) -> str | None:
        """Why these options must not start (plaintext xDS reachable from other hosts), or None."""
        if self.xds_tls is None and not self.managed_tls and not self.insecure_xds \
                and not is_loopback(self.xds_address):
            return (f"refusing to serve xDS in plaintext on {self.xds_address}: anyone reaching it could claim "
                    "any Gateway and get its private keys; give --xds-cert, --xds-key and --xds-client-ca "
                    "(or --insecure-xds)")
        return None


class StartError(Exception):
    """meshgate cannot start (a port of its own is taken): one line for the user."""


def _why(exc: OSError) -> str:
    """"Address already in use" rather than asyncio's or gRPC's longer wording."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


@dataclass
class Runner:
    """The running pieces, started and stopped together."""

    options: RunOptions
    say: Callable[[str], None] = print
    cache: SnapshotCache = field(default_factory=SnapshotCache)
    metrics: Metrics = field(default_factory=Metrics)
    registry: StreamRegistry = field(default_factory=StreamRegistry)
    envoys: dict[str, ManagedEnvoy] = field(default_factory=dict)
    echoes: dict[tuple[str, int], EchoServer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.control = ControlPlane(FileProvider(self.options.paths), self.cache, self.metrics,
                                    ingress_use_waypoints=self.options.ingress_use_waypoints,
                                    address_pool=AddressPool(self.options.address_pool)
                                    if self.options.address_pool else None,
                                    shared_host=self.options.envoys,
                                    max_views=self.options.xds_limits.max_views)
        self.server: grpc.aio.Server | None = None
        self.xds_port = 0
        self.pki: ManagedPKI | None = None
        self.debug = DebugServer(self.control, self.registry, self.metrics)
        self.control.reload_log.streams = self.registry  # reload logs say how many proxies a push woke
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def workdir(self) -> Path:
        if self.options.workdir is not None:
            self.options.workdir.mkdir(parents=True, exist_ok=True)
            return self.options.workdir
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="meshgate-")
        return Path(self._tmp.name)

    async def start(self) -> None:
        """Load, serve, and start Envoys and echo backends."""
        opts = self.options
        # The debug endpoint first: /healthz answers and /readyz says what is awaited meanwhile.
        try:
            debug_port = await self.debug.start("127.0.0.1", opts.debug_port)
        except OSError as exc:
            raise StartError(f"cannot serve metrics and debug on 127.0.0.1:{opts.debug_port}: {_why(exc)}") from None
        self.control.load()  # logs the load and each input error
        self.debug.readiness.loaded = True
        service = AggregatedDiscoveryService(self.cache, self.registry, self.metrics, resolve=self.control.resolve,
                                             release=self.control.release, limits=opts.xds_limits)
        tls = self._server_tls()
        try:
            self.server, self.xds_port = await start_server(service, opts.xds_address, opts.xds_port, tls)
        except OSError as exc:
            raise StartError(f"cannot serve xDS on {opts.xds_address}:{opts.xds_port}: {_why(exc)}") from None
        self.debug.readiness.xds = f"{opts.xds_address}:{self.xds_port}"
        self.say(f"meshgate: xDS ({'Delta' if opts.delta else 'SotW'} ADS, {'mTLS' if tls else 'plaintext'}) on "
                 f"{opts.xds_address}:{self.xds_port}; metrics and debug on http://127.0.0.1:{debug_port}/metrics")
        if opts.echo:
            self._sync_echoes()
        if opts.envoys:
            await self._sync_envoys(self.control.configs)
        # From now on, Gateways that appear or vanish get (or lose) their Envoy.
        self.control.on_gateways = self._gateways_changed
        self._spawn(self.control.watch())

    @property
    def _envoy_xds_host(self) -> str:
        """Where managed Envoys reach the xDS server."""
        return "127.0.0.1" if self.options.xds_address in ("0.0.0.0", "::") else self.options.xds_address

    def _server_tls(self) -> ServerTLS | None:
        """The xDS server's TLS (None: plaintext); ValueError when the options do not allow it."""
        opts = self.options
        refusal = opts.plaintext_refusal()
        if refusal:
            raise ValueError(refusal)
        if opts.envoys and opts.xds_tls is not None and not opts.managed_tls:
            raise ValueError("managed Envoys need managed_tls when the xDS server uses TLS")
        tls = opts.xds_tls
        if opts.managed_tls:
            self.pki = ManagedPKI.prepare(self.workdir / "pki", [self._envoy_xds_host, "localhost"])
            # The operator's certificate stays the default; run's own is chosen by its SNI.
            tls = tls.including(self.pki.server_tls()) if tls is not None else self.pki.server_tls()
        return tls

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- Envoys -----------------------------------------------------------------------------
    def _gateways_changed(self, configs: list[GatewayConfig]) -> None:
        if self.options.envoys:
            self._spawn(self._sync_envoys(configs))
        if self.options.echo:
            self._sync_echoes()

    async def _sync_envoys(self, configs: list[GatewayConfig]) -> None:
        wanted = {c.key: c for c in configs}
        for key in [k for k in self.envoys if k not in wanted]:
            envoy = self.envoys.pop(key)
            await envoy.stop()
            self.say(f"gateway {key}: removed, its Envoy stopped")
        for key, cfg in sorted(wanted.items()):
            if key in self.envoys:
                continue
            tls = None
            if self.pki is not None:
                cert, private_key = self.pki.gateway_files(key)
                tls = XdsClientTLS(self.pki.ca_file, cert, private_key, server_name=MANAGED_SERVER_NAME)
            boot = ads_bootstrap(key, self._envoy_xds_host, self.xds_port, delta=self.options.delta, tls=tls)
            envoy = ManagedEnvoy(key, boot, self.workdir, log_level=self.options.envoy_log_level)
            self.envoys[key] = envoy
            try:
                await envoy.start()
            except Exception as exc:  # noqa: BLE001 - report and keep the other gateways running
                self.say(f"gateway {key}: Envoy failed to start: {exc}")
                continue
            for lst in cfg.listeners:
                host = "127.0.0.1" if lst.address in ("0.0.0.0", "::") else lst.address
                host = f"[{host}]" if ":" in host else host
                scheme = "https" if lst.protocol == "HTTPS" else "http"
                self.say(f"gateway {key}: {scheme}://{host}:{lst.port}  (Envoy admin {envoy.admin_url})")
                self.say(f"  try: curl -s{'k' if scheme == 'https' else ''} {scheme}://{host}:{lst.port}/")

    # -- echo backends ----------------------------------------------------------------------
    def _sync_echoes(self) -> None:
        from ..echo import EchoServer

        for sl in self.control.store.list("EndpointSlice"):
            for ep in sl.endpoints:
                address = ep.addresses[0]
                try:
                    if not ipaddress.ip_address(address).is_loopback:
                        continue
                except ValueError:
                    continue
                for port in sl.ports or ():
                    if port.port is None or (address, port.port) in self.echoes:
                        continue
                    pod = ep.target_ref.name if ep.target_ref else f"{sl.service_name}-echo"
                    server = EchoServer(address, port.port, pod=pod, namespace=sl.meta.namespace)
                    try:
                        server.start()
                    except OSError as exc:
                        self.say(f"echo backend {address}:{port.port}: cannot listen: {exc}")
                        continue
                    self.echoes[(address, port.port)] = server
        if self.echoes:
            self.say(f"echo backends: {', '.join(f'{a}:{p}' for a, p in sorted(self.echoes))}")

    # -- stopping -------------------------------------------------------------------------
    async def stop(self) -> None:
        """Stop everything that was started."""
        for task in list(self._tasks):
            task.cancel()
        for envoy in list(self.envoys.values()):
            await envoy.stop()
        self.envoys.clear()
        for server in self.echoes.values():
            server.stop()
        self.echoes.clear()
        await self.debug.stop()
        if self.server is not None:
            await self.server.stop(grace=1.0)
        if self._tmp is not None:
            self._tmp.cleanup()


async def run_until_signal(options: RunOptions, say: Callable[[str], None] = print) -> None:
    """Start, run until SIGINT or SIGTERM, stop."""
    runner = Runner(options, say)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.start()
        say("Ctrl-C stops everything")
        await stop.wait()
    finally:
        say("meshgate: stopping")
        await runner.stop()
