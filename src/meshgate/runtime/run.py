"""`meshgate run` and `meshgate serve`: the control plane as a process.

run = xDS server + file watcher + debug/metrics endpoint + one managed Envoy per Gateway
(+ echo backends for loopback endpoints, on request). serve = the same without Envoys.
Everything it starts is stopped on SIGINT/SIGTERM. xDS is mutual TLS when the options give a
server certificate (`xds_tls`) or ask for run's own CA (`managed_tls`: the managed Envoys get a
client certificate each); plaintext is only allowed on loopback unless `insecure_xds`. The Envoys' workdir is claimed at start
(`workdir.py`), where Envoys a crashed run of it left are stopped first; a Gateway that vanishes
keeps its Envoy for a grace period, so a file rewritten in place does not restart it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from ..envoy.bootstrap import XdsClientTLS, ads_bootstrap
from ..envoy.leftovers import stop_leftovers
from ..envoy.process import STABLE_AFTER, EnvoyAdminError, ManagedEnvoy
from ..envoy.stats import inclusion_prefixes
from ..ir import GatewayConfig, Infrastructure
from ..providers.base import Provider
from ..providers.files import FileProvider
from ..providers.kubernetes.connection import Connection
from ..ratelimit.limits import build_table, gateway_limits
from ..ratelimit.service import RateLimitServicer
from ..resources.loader import InputLimits
from ..xds.cache import SnapshotCache
from ..xds.limits import XdsLimits
from ..xds.server import AggregatedDiscoveryService, start_server
from ..xds.streams import StreamRegistry
from ..xds.tls import ServerTLS, is_loopback, peer_gateways
from .address_pool import AddressPool
from .controller import ControlPlane
from .debug import DebugServer
from .envoy_metrics import federate
from .metrics import Metrics
from .pki import MANAGED_SERVER_NAME, ManagedPKI
from .workdir import Workdir

if TYPE_CHECKING:
    from ..cluster.render import GatewayOwner
    from ..echo import EchoServer  # imported when echo backends are asked for
    from ..ratelimit.redis_counters import RedisCounterStore
    from .cluster_pki import ClusterPKI
    from .in_cluster import ClusterDuties

log = logging.getLogger("meshgate.run")


@dataclass
class RunOptions:
    """How to run."""

    paths: list[str]
    xds_address: str = "127.0.0.1"
    xds_port: int = 18000
    debug_port: int = 18001
    debug_address: str = "127.0.0.1"  # loopback unless asked (a Pod's probes and scrapes need its IP: 0.0.0.0)
    delta: bool = True
    envoys: bool = True  # one managed Envoy per Gateway
    echo: bool = False  # echo backends on the loopback endpoints of EndpointSlices
    workdir: Path | None = None  # None: a temporary directory
    cleanup: bool = False  # remove a temporary workdir on exit (a given one is always kept)
    envoy_log_level: str = "warning"
    envoy_grace_period: float = 5.0  # seconds a vanished Gateway keeps its Envoy
    envoy_stable_after: float = STABLE_AFTER  # seconds LIVE after which the restart backoff resets
    ingress_use_waypoints: bool = True
    address_pool: str | None = None  # CIDR: Gateways without an address value get one address each
    xds_limits: XdsLimits = field(default_factory=XdsLimits)  # what one xDS client may ask for
    limits: InputLimits = field(default_factory=InputLimits)  # how big an input file may be
    xds_tls: ServerTLS | None = None  # the operator's server certificate and client CA
    managed_tls: bool = False  # a CA in workdir/pki; managed Envoys use mTLS with a certificate each
    insecure_xds: bool = False  # allow plaintext xDS on a non-loopback address
    kubernetes: Connection | None = None  # objects from this API server instead of `paths`
    watch_namespaces: list[str] = field(default_factory=list)  # with `kubernetes`: these only (empty: all)
    cluster: dict = field(default_factory=dict)  # with `kubernetes`: ClusterDuties fields (Lease, proxy defaults)
    kind_recheck: float = 10.0  # with `kubernetes`: seconds between looks for a missing or forbidden kind
    rate_limit_redis: str | None = None  # the global rate limit counters in Redis (None: in memory, this replica's)

    def provider(self) -> Provider:
        """Where objects come from: the API server, or the files under `paths`."""
        if self.kubernetes is not None:
            from ..providers.kubernetes.provider import KubernetesProvider  # lazily: its client library
            from ..providers.kubernetes.reflector import Timing

            return KubernetesProvider(self.kubernetes, self.watch_namespaces, Timing(recheck=self.kind_recheck))
        return FileProvider(self.paths, self.limits)

    def plaintext_refusal(self) -> str | None:
        """Why these options must not start (plaintext xDS reachable from other hosts), or None.
        In a cluster xDS is mutual TLS by default (the cluster's CA), so nothing is refused."""
        if self.xds_tls is None and not self.managed_tls and not self.insecure_xds \
                and self.kubernetes is None and not is_loopback(self.xds_address):
            return (f"refusing to serve xDS in plaintext on {self.xds_address}: anyone reaching it could claim "
                    "any Gateway and get its private keys; give --xds-cert, --xds-key and --xds-client-ca "
                    "(or --insecure-xds)")
        return None


def _url_host(address: str) -> str:
    """`address` as a URL's host (an IPv6 address in brackets)."""
    return f"[{address}]" if ":" in address else address


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
        in_cluster = self.options.kubernetes is not None
        self.control = ControlPlane(self.options.provider(), self.cache, self.metrics,
                                    ingress_use_waypoints=self.options.ingress_use_waypoints,
                                    address_pool=AddressPool(self.options.address_pool)
                                    if self.options.address_pool else None,
                                    shared_host=self.options.envoys,
                                    max_views=self.options.xds_limits.max_views,
                                    emulate_slice_controller=not in_cluster)
        # Global rate limits: the service on the xDS port, its table following every translation.
        # Its counters in this process, or in Redis shared with the other replicas.
        self.counter_store: RedisCounterStore | None = None
        if self.options.rate_limit_redis:
            from ..ratelimit.redis_counters import RedisCounterStore  # lazily: its client library

            self.counter_store = RedisCounterStore(self.options.rate_limit_redis)
        self.rate_limits = RateLimitServicer(store=self.counter_store)
        self.rate_limits.on_store_error = self.metrics.rate_limit_store_errors.inc
        self.rate_limits.caller_gateways = lambda context: peer_gateways(context.auth_context())
        self.control.on_configs = lambda configs: self.rate_limits.update(build_table(gateway_limits(configs)))
        self.server: grpc.aio.Server | None = None
        self.service: AggregatedDiscoveryService | None = None
        self.xds_port = 0
        self.pki: ManagedPKI | None = None
        self.debug = DebugServer(self.control, self.registry, self.metrics,
                                 envoy_stats=self.envoy_stats if self.options.envoys else None)
        self.control.reload_log.streams = self.registry  # reload logs say how many proxies a push woke
        self._workdir: Workdir | None = None
        self._retiring: dict[str, asyncio.Task] = {}  # vanished Gateways whose Envoy stops after the grace period
        self._infrastructure: dict[str, Infrastructure] = {}  # what each Envoy's node metadata was made from
        self._tasks: set[asyncio.Task] = set()
        self.duties: ClusterDuties | None = None  # in a cluster: leader election and status write-back
        self.cluster_pki: ClusterPKI | None = None  # in a cluster, unless told otherwise: xDS mTLS from its CA
        self._cluster_tls: ServerTLS | None = None  # this replica's server certificate from it

    @property
    def workdir(self) -> Path:
        """Where the Envoys' bootstraps, logs and pid records go: claimed (locked, 0700) on first use."""
        if self._workdir is None:
            self._workdir = Workdir.claim(self.options.workdir)
        return self._workdir.path

    async def _claim_workdir(self) -> None:
        """Claim the workdir, say where it is, and stop the Envoys a crashed run of it left."""
        path = self.workdir
        assert self._workdir is not None
        kept = ("kept after exit, --cleanup removes it" if self._workdir.temporary and not self.options.cleanup
                else "removed on exit" if self._workdir.temporary else "kept after exit")
        self.say(f"meshgate: workdir {path} (Envoy bootstraps and logs; {kept})")
        for record in await stop_leftovers(path):
            self.say(f"meshgate: stopped Envoy pid {record.pid} (gateway {record.name}) left running "
                     f"by an earlier run of {path}")

    async def start(self) -> None:
        """Load, serve, and start Envoys and echo backends."""
        opts = self.options
        if opts.envoys:
            await self._claim_workdir()  # first: a workdir in use is refused before any port is taken
        # The debug endpoint next: /healthz answers and /readyz says what is awaited meanwhile.
        try:
            debug_port = await self.debug.start(opts.debug_address, opts.debug_port)
        except OSError as exc:
            raise StartError(f"cannot serve metrics and debug on {opts.debug_address}:{opts.debug_port}: "
                             f"{_why(exc)}") from None
        await self.control.provider.start()  # the API server: each kind listed once
        if opts.kubernetes is not None and opts.xds_tls is None and not opts.insecure_xds:
            await self._prepare_cluster_pki()
        self.control.load()  # logs the load and each input error
        self.debug.readiness.loaded = True
        service = AggregatedDiscoveryService(self.cache, self.registry, self.metrics, resolve=self.control.resolve,
                                             release=self.control.release, limits=opts.xds_limits,
                                             ready=self.control.ready)
        tls = self._server_tls()
        try:
            self.server, self.xds_port = await start_server(service, opts.xds_address, opts.xds_port, tls,
                                                            services=[self.rate_limits.add_to_server])
        except OSError as exc:
            raise StartError(f"cannot serve xDS on {opts.xds_address}:{opts.xds_port}: {_why(exc)}") from None
        self.service = service
        self.debug.readiness.xds = f"{opts.xds_address}:{self.xds_port}"
        self.say(f"meshgate: xDS ({'Delta' if opts.delta else 'SotW'} ADS, {'mTLS' if tls else 'plaintext'}) on "
                 f"{opts.xds_address}:{self.xds_port}; metrics and debug on http://{_url_host(opts.debug_address)}:{debug_port}/metrics")
        if self.counter_store is not None:
            await self._check_redis(self.counter_store)
        if opts.echo:
            self._sync_echoes()
        if opts.envoys:
            await self._sync_envoys(self.control.configs)
        # From now on, Gateways that appear or vanish get (or lose) their Envoy.
        self.control.on_gateways = self._gateways_changed
        self._spawn(self.control.watch())
        if opts.kubernetes is not None:
            self._start_duties()

    async def _check_redis(self, store: RedisCounterStore) -> None:
        """Say where the rate limit counters are, and whether Redis answers now: one that does not
        is no reason to stop serving xDS (each rate limit request is answered with an error, and
        Envoy lets it through, until Redis is back)."""
        problem = await store.check()
        if problem is None:
            self.say(f"meshgate: global rate limit counters in Redis at {store.where}")
        else:
            self.say(f"meshgate: global rate limit counters in Redis at {store.where}, not reachable now "
                     f"({problem}): rate limits are not enforced until it is")
            log.error("rate limit counters: Redis at %s not reachable at start (%s)", store.where, problem)

    def _owned_gateways(self) -> list[tuple[GatewayConfig, GatewayOwner]]:
        """The served Gateways (waypoints included) and what their provisioned objects belong to."""
        from ..cluster.render import GatewayOwner

        out = []
        for cfg in self.control.configs:
            gw = self.control.store.get("Gateway", cfg.namespace, cfg.name)
            if gw is not None:
                out.append((cfg, GatewayOwner(cfg.namespace, cfg.name, gw.meta.uid, gw.class_name)))
        return out

    def _start_duties(self) -> None:
        """Campaign for the Lease; while leading, write status back."""
        from ..providers.kubernetes.provider import KubernetesProvider  # lazily: its client library
        from .in_cluster import ClusterDuties
        from .live_status import as_dicts, from_dicts, live_status, rejections

        provider = self.control.provider
        assert isinstance(provider, KubernetesProvider)
        self.duties = ClusterDuties(provider,
                                    lambda remote: live_status(self.control, self.registry.all(), from_dicts(remote)),
                                    self._owned_gateways, lambda: as_dicts(rejections(self.registry.all())),
                                    self.metrics, **self.options.cluster,
                                    xds_secret=self.cluster_pki.secret_for if self.cluster_pki is not None else None)
        self.duties.start()
        self.control.on_applied = self.duties.changed

    @property
    def _envoy_xds_host(self) -> str:
        """Where managed Envoys reach the xDS server."""
        return "127.0.0.1" if self.options.xds_address in ("0.0.0.0", "::") else self.options.xds_address

    async def _prepare_cluster_pki(self) -> None:
        """The cluster's xDS CA (from its Secret, created if missing), and this replica's server
        certificate for the names proxies reach it at."""
        from ..providers.kubernetes.provider import KubernetesProvider  # lazily: its client library
        from .cluster_pki import ClusterPKI, cluster_authority
        from .in_cluster import lease_namespace, proxy_defaults

        provider = self.control.provider
        assert isinstance(provider, KubernetesProvider) and provider.client is not None
        cluster = self.options.cluster
        namespace = cluster.get("lease_namespace") or lease_namespace()
        self.cluster_pki = ClusterPKI(await cluster_authority(provider.client, namespace))
        defaults = cluster.get("proxy_defaults") or proxy_defaults()
        cluster["proxy_defaults"] = dataclasses.replace(defaults, xds_tls=True)
        self._cluster_tls = self.cluster_pki.server_tls(
            list(dict.fromkeys([defaults.xds_host, f"meshgate.{namespace}.svc", f"meshgate.{namespace}.svc.cluster.local"])))

    def _server_tls(self) -> ServerTLS | None:
        """The xDS server's TLS (None: plaintext); ValueError when the options do not allow it."""
        opts = self.options
        if self.cluster_pki is not None:
            return self._cluster_tls
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
        if self.duties is not None:
            self.duties.gateways_changed()

    async def envoy_stats(self) -> str:
        """Every managed Envoy's Prometheus statistics, labelled by Gateway (runtime/envoy_metrics.py);
        an Envoy that does not answer (starting, restarting) is left out of this scrape."""
        texts: dict[str, str] = {}
        for key, envoy in list(self.envoys.items()):
            with contextlib.suppress(OSError, RuntimeError, EnvoyAdminError, TimeoutError):
                texts[key] = await envoy.admin_get("/stats/prometheus")
        return federate(texts)

    async def _sync_envoys(self, configs: list[GatewayConfig]) -> None:
        wanted = {c.key: c for c in configs}
        grace = self.options.envoy_grace_period
        for key in [k for k in self.envoys if k not in wanted and k not in self._retiring]:
            if grace > 0:
                self.say(f"gateway {key}: gone; its Envoy stops in {grace:g}s unless it comes back")
                task = asyncio.ensure_future(self._retire(key, grace))
                self._retiring[key] = task
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                await self._stop_envoy(key)
        for key, cfg in sorted(wanted.items()):
            retiring = self._retiring.pop(key, None)
            if retiring is not None:
                retiring.cancel()
                self.say(f"gateway {key}: back within {grace:g}s, its Envoy kept")
            previous = self.envoys.get(key)
            if previous is not None and self._infrastructure.get(key) == cfg.infrastructure:
                continue
            tls = None
            if self.pki is not None:
                cert, private_key = self.pki.gateway_files(key)
                tls = XdsClientTLS(self.pki.ca_file, cert, private_key, server_name=MANAGED_SERVER_NAME)
            # The Gateway's infrastructure labels and annotations are its Envoy's node metadata.
            boot = ads_bootstrap(key, self._envoy_xds_host, self.xds_port, delta=self.options.delta, tls=tls,
                                 labels=dict(cfg.infrastructure.labels),
                                 annotations=dict(cfg.infrastructure.annotations),
                                 stats_prefixes=inclusion_prefixes(dict(cfg.infrastructure.annotations)))
            envoy = ManagedEnvoy(key, boot, self.workdir, log_level=self.options.envoy_log_level,
                                 stable_after=self.options.envoy_stable_after)
            self.envoys[key] = envoy  # before any await: a concurrent sync sees this one
            self._infrastructure[key] = cfg.infrastructure
            try:
                if previous is not None:
                    # Node metadata is read at start: new labels or annotations need a new Envoy,
                    # as new Pod labels need new Pods (README, "Gateway infrastructure").
                    self.say(f"gateway {key}: infrastructure labels or annotations changed; restarting its Envoy")
                    await previous.stop()
                await envoy.start()
            except Exception as exc:  # noqa: BLE001 - report and keep the other gateways running
                self.say(f"gateway {key}: Envoy failed to start: {exc}")
                continue
            for lst in cfg.listeners:
                host = "127.0.0.1" if lst.address in ("0.0.0.0", "::") else lst.address
                host = f"[{host}]" if ":" in host else host
                scheme = "https" if lst.protocol == "HTTPS" else "http"
                self.say(f"gateway {key}: {scheme}://{host}:{lst.port}  (Envoy admin {envoy.admin_url}, "
                         f"access log {envoy.log_path})")
                self.say(f"  try: curl -s{'k' if scheme == 'https' else ''} {scheme}://{host}:{lst.port}/")

    async def _retire(self, key: str, grace: float) -> None:
        """Stop the Envoy of vanished Gateway `key` after `grace` seconds, unless cancelled
        because the Gateway came back (a file truncated and rewritten, a rename)."""
        await asyncio.sleep(grace)
        self._retiring.pop(key, None)  # from here on, a Gateway coming back gets a new Envoy
        await self._stop_envoy(key)

    async def _stop_envoy(self, key: str) -> None:
        self._infrastructure.pop(key, None)
        envoy = self.envoys.pop(key, None)
        if envoy is not None:
            await envoy.stop()
            self.say(f"gateway {key}: removed, its Envoy stopped")

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
        self._retiring.clear()
        for envoy in list(self.envoys.values()):
            await envoy.stop()
        self.envoys.clear()
        self._infrastructure.clear()
        for server in self.echoes.values():
            server.stop()
        self.echoes.clear()
        if self.duties is not None:
            await self.duties.stop()
            self.duties = None
        await self.control.provider.stop()
        await self.debug.stop()
        if self.server is not None:
            if self.service is not None:
                self.service.end_streams()  # proxies still connected (serve) are let go cleanly
            await self.server.stop(grace=1.0)
        if self.counter_store is not None:
            await self.counter_store.aclose()
        if self._workdir is not None:
            workdir, self._workdir = self._workdir, None
            if workdir.release(cleanup=self.options.cleanup):
                self.say(f"meshgate: removed workdir {workdir.path}")
            elif workdir.temporary:
                self.say(f"meshgate: Envoy logs kept in {workdir.path}")


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
