"""`meshgate run` and `meshgate serve`: the control plane as a process.

run = xDS server + file watcher + debug/metrics endpoint + one managed Envoy per Gateway
(+ echo backends for loopback endpoints, on request). serve = the same without Envoys.
Everything it starts is stopped on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..envoy.bootstrap import ads_bootstrap
from ..envoy.process import ManagedEnvoy
from ..ir import GatewayConfig
from ..providers.files import FileProvider
from ..resources.loader import Limits
from ..xds.cache import SnapshotCache
from ..xds.server import AggregatedDiscoveryService, start_server
from ..xds.streams import StreamRegistry
from .address_pool import AddressPool
from .controller import ControlPlane
from .debug import DebugServer
from .metrics import Metrics

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
    limits: Limits = field(default_factory=Limits)  # how big an input file may be


@dataclass
class Runner:
    """The running pieces, started and stopped together."""

    options: RunOptions
    say: Callable[[str], None] = print
    cache: SnapshotCache = field(default_factory=SnapshotCache)
    metrics: Metrics = field(default_factory=Metrics)
    registry: StreamRegistry = field(default_factory=StreamRegistry)
    envoys: dict[str, ManagedEnvoy] = field(default_factory=dict)
    echoes: dict[tuple[str, int], object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.control = ControlPlane(FileProvider(self.options.paths, self.options.limits), self.cache, self.metrics,
                                    ingress_use_waypoints=self.options.ingress_use_waypoints,
                                    address_pool=AddressPool(self.options.address_pool)
                                    if self.options.address_pool else None)
        self.server = None
        self.xds_port = 0
        self.debug = DebugServer(self.control, self.registry, self.metrics)
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
        self.control.load()
        for e in self.control.errors:
            self.say(f"{e.severity}: {e}")
        service = AggregatedDiscoveryService(self.cache, self.registry, self.metrics, resolve=self.control.resolve)
        self.server, self.xds_port = await start_server(service, opts.xds_address, opts.xds_port)
        debug_port = await self.debug.start("127.0.0.1", opts.debug_port)
        self.say(f"meshgate: xDS ({'Delta' if opts.delta else 'SotW'} ADS) on {opts.xds_address}:{self.xds_port}; "
                 f"metrics and debug on http://127.0.0.1:{debug_port}/metrics")
        if opts.echo:
            self._sync_echoes()
        if opts.envoys:
            await self._sync_envoys(self.control.configs)
        # From now on, Gateways that appear or vanish get (or lose) their Envoy.
        self.control.on_gateways = self._gateways_changed
        self._spawn(self.control.watch())

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
            boot = ads_bootstrap(key, "127.0.0.1" if self.options.xds_address in ("0.0.0.0", "::") else
                                 self.options.xds_address, self.xds_port, delta=self.options.delta)
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
