"""Applying change sets to the store and the xDS cache, incrementally.

Discovery and the cluster builder live across changes, their results memoized with what they
read (incremental/): a change first drops exactly the service models, endpoints, plans and
clusters that read something it touched. An EndpointSlice-only change then updates just the
ClusterLoadAssignments of the gateways that use its Services. Any other change re-translates
the gateways, reusing every plan and cluster the change did not touch, and the cache keeps
only resources whose bytes changed, so proxies are sent only what moved. Changes arriving
close together are applied together (debounce).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import hashlib
import logging
import time
from collections.abc import Callable

import grpc

from ..collector import collector_paused
from ..discovery.index import Discovery
from ..discovery.locality import ProxyView, lb_context, proxy_view
from ..gateway.classes import owned_classes
from ..gateway.frontend_tls import only_unread_config_maps
from ..gateway.route_table import RouteTable
from ..gateway.status_times import keep_transition_times
from ..incremental.reads import changed_reads
from ..ir import ClusterRef, GatewayConfig, WeightedCluster
from ..naming import WAYPOINT_CLASSES
from ..pipeline import cluster_builder, now_rfc3339, translate_store
from ..providers.base import Provider
from ..providers.changes import ChangeSet
from ..resources.errors import InputError
from ..resources.meta import ObjectKey
from ..store import Store
from ..xds.cache import SnapshotCache
from ..xds.checks import Refused
from ..xds.cluster_plan import AnyPlan
from ..xds.limits import XdsLimits
from ..xds.proxy import ProxyIdentity
from ..xds.resources import CLUSTER, ENDPOINT, Resource, snapshot_resources
from ..xds.route_builder import RouteBuilder
from ..xds.snapshot import ClusterBuilder, build_snapshot
from .address_pool import AddressPool
from .metrics import Metrics
from .reload_log import ReloadLog

log = logging.getLogger("meshgate.controller")

DEBOUNCE_S = 0.1
MAX_DELAY_S = 1.0


class ControlPlane:
    """The store, the current translation and the cache, kept in step with a provider."""

    def __init__(self, provider: Provider, cache: SnapshotCache, metrics: Metrics | None = None,
                 clock: Callable[[], str] = now_rfc3339, ingress_use_waypoints: bool = True,
                 address_pool: AddressPool | None = None, shared_host: bool = False,
                 max_views: int = XdsLimits().max_views, emulate_slice_controller: bool = True) -> None:
        self.provider = provider
        # Standalone, meshgate writes Pods' EndpointSlices and hints itself; in a cluster it reads Kubernetes'.
        self.emulate_slice_controller = emulate_slice_controller
        self.shared_host = shared_host  # every Gateway's Envoy runs on this host (meshgate run)
        self.max_views = max_views
        self.address_pool = address_pool
        self.cache = cache
        self.metrics = metrics or Metrics()
        self.clock = clock
        self.ingress_use_waypoints = ingress_use_waypoints
        self.store = Store()
        self.discovery = Discovery(self.store, emulate_slice_controller=emulate_slice_controller)
        self.configs: list[GatewayConfig] = []
        self.status: list[dict] = []
        self.translation_errors: list[InputError] = []  # input problems only translation sees
        self.on_gateways: Callable[[list[GatewayConfig]], None] | None = None  # gateways came, went, or changed infrastructure
        self.on_applied: Callable[[], None] | None = None  # a change set was applied (status may have moved)
        self.on_configs: Callable[[list[GatewayConfig]], None] | None = None  # after every translation
        self.reload_log = ReloadLog()  # logs each reload; its `streams` says how many proxies a push wakes
        self._pending = ChangeSet()
        self._flush: asyncio.TimerHandle | None = None
        self._first_pending: float | None = None
        self._last_submit: float | None = None  # loop time of the last change submitted
        # (ns, service) → [(gateway, its ClusterRef, or a WeightedCluster with a part of it, the
        # gateway's backend client certificate)]
        self._cluster_users: dict[tuple[str, str], list[tuple[str, ClusterRef | WeightedCluster, str | None]]] = {}
        self.builder = cluster_builder(self.store, self.discovery, self.ingress_use_waypoints)
        self.routes = RouteTable(self.store, self.discovery)
        # Route configurations, kept serialized while their IR holds (xds/route_builder.py).
        self.route_builder = RouteBuilder()
        self._per_client: dict[str, list[AnyPlan]] = {}  # gateway → its clusters that differ per client
        self._settings: dict[str, set] = {}  # gateway → distinct (LocalitySetting, applies) of those clusters
        self._hints: dict[str, tuple[bool, bool]] = {}  # gateway → (any topology hints, any node hints)
        # cache key → (gateway, a proxy of that context); only while a stream is served from it
        self._contexts: dict[str, tuple[str, ProxyView]] = {}
        self._labels: dict[str, dict[str, str] | None] = {}  # cache key → labels, when rules select by them
        self._selector_namespaces: set[str] = set()  # namespaces with label-selecting DestinationRules
        # What each gateway's entry holds, as the controller wrote it (views are built from it
        # without reading the cache, whose writes may still be waiting for the commit).
        self._base: dict[str, dict[str, dict]] = {}
        # While a change set is applied off the event loop: the cache writes (and callbacks) to
        # make on the loop once it is done, in order; None when writes go straight through.
        self._deferred: list[tuple[Callable[..., object], tuple]] | None = None
        self._released: list[str] = []  # views let go of meanwhile, released at the commit
        self._idle = asyncio.Event()
        self._idle.set()
        self._one_apply = asyncio.Lock()

    def _write(self, fn: Callable[..., object], *args: object) -> None:
        """A cache write (or a callback that acts on the outside): now, or at the commit."""
        if self._deferred is not None:
            self._deferred.append((fn, args))
        else:
            fn(*args)

    async def ready(self) -> None:
        """Return once no change set is being applied: what reads or changes the controller's
        views (resolving a new stream, releasing one, a status read) waits here meanwhile."""
        await self._idle.wait()

    @property
    def applying(self) -> bool:
        """True while a change set is applied off the event loop."""
        return not self._idle.is_set()

    @property
    def errors(self) -> list[InputError]:
        """Current input problems: the files' and the last translation's."""
        return self.provider.errors + self.translation_errors

    # -- applying -----------------------------------------------------------------------------
    def load(self) -> None:
        """The initial load and translation."""
        self.apply(self.provider.load_all(), force_full=True)

    def apply(self, changes: ChangeSet, force_full: bool = False) -> str:
        """Apply a change set; returns which path it took ("none", "endpoints" or "full").

        Logs what changed, what moved in the cache and the input errors that came or went.
        """
        before = self.reload_log.before(self.store, [ObjectKey.of(o) for o in changes.upserts] + changes.deletes,
                                        self.cache)
        start = time.perf_counter()
        with collector_paused():
            slice_services = self._slice_services(changes)
            keys = [ObjectKey.of(o) for o in changes.upserts] + list(changes.deletes)
            olds = {k: self.store.get(k.kind, k.namespace, k.name) for k in keys}
            changed = self.store.apply(changes.upserts, changes.deletes)
            reads: set = set()
            for k in changed:
                reads |= changed_reads(k, olds.get(k), self.store.get(k.kind, k.namespace, k.name))
            self.discovery.invalidate(reads)
            self.builder.invalidate(reads)
            self.routes.invalidate(reads)
            self.store.rejected = self.provider.rejected
            self.metrics.input_errors.set(sum(1 for e in self.errors if e.severity == "error"))
            if (not changed or only_unread_config_maps(self.store, changed)) and not force_full:
                path = "none"
            elif not force_full and all(k.kind == "EndpointSlice" for k in changed):
                self._update_endpoints(slice_services)
                path = "endpoints"
            else:
                self._translate(fresh=force_full)
                path = "full"
        seconds = time.perf_counter() - start
        self.metrics.translate_seconds.labels(path).observe(seconds)
        errors = self.errors
        # After the cache writes: the log says what they pushed.
        self._write(lambda: self.reload_log.after(before, changed, self.store, self.cache, path, seconds, errors,
                                                  initial=force_full))
        if self.on_applied is not None:
            self._write(self.on_applied)
        return path

    def _slice_services(self, changes: ChangeSet) -> set[tuple[str, str]]:
        """The Services whose endpoints a change set touches (before and after)."""
        out: set[tuple[str, str]] = set()
        keys = [ObjectKey.of(o) for o in changes.upserts] + list(changes.deletes)
        for key in keys:
            if key.kind != "EndpointSlice":
                continue
            old = self.store.get("EndpointSlice", key.namespace, key.name)
            if old is not None and old.service_name:
                out.add((key.namespace, old.service_name))
        for obj in changes.upserts:
            if obj.kind == "EndpointSlice" and obj.service_name:
                out.add((obj.meta.namespace, obj.service_name))
        return out

    def _update_endpoints(self, services: set[tuple[str, str]]) -> None:
        touched: dict[str, dict[str, AnyPlan]] = {}
        waypoints = {c.key for c in self.configs if c.waypoint}
        for ns, name in services:
            # Discovery and the builder forgot what the change touched (apply).
            for gateway, ref, client_cert in self._cluster_users.get((ns, name), ()):
                if isinstance(ref, ClusterRef) and gateway not in waypoints and \
                        (ref.service_kind, ref.namespace, ref.service) in self.builder.via_waypoint:
                    continue  # an ingress gateway sends it to the waypoint's VIPs: its endpoints don't matter
                plan = self.builder.plan_of(ref, gateway.split("/", 1)[0], waypoint=gateway in waypoints,
                                            client_certificate=client_cert)
                if plan is not None:
                    touched.setdefault(gateway, {})[plan.ref.name] = plan  # a weighted one once, however many parts moved
        for gateway, by_name in touched.items():
            plans = list(by_name.values())
            self._put(gateway, plans, None)
            for key, (gw, view) in self._contexts.items():
                if gw == gateway:
                    labels = self._labels.get(key)
                    if labels:
                        # Planned apart: what a label set needs goes with its view (see _build_context).
                        scratch = self.builder.scratch()
                        self._put(key, [scratch.plan_of(p.ref, gateway.split("/", 1)[0], labels,
                                                        gateway in waypoints, p.presented_certificate) or p
                                        for p in plans],
                                  view, scratch)
                    else:
                        self._put(key, plans, view)
            # Only the touched clusters can have gained or lost per-client endpoints (hints).
            moved = {p.ref.name for p in plans}
            self._per_client[gateway] = [p for p in self._per_client.get(gateway, []) if p.ref.name not in moved] + [
                p for p in plans if p.per_client]
            self._refresh_context_rules([gateway])

    def _refresh_context_rules(self, gateways: list[str]) -> None:
        """Recompute what decides each gateway's contexts; where that changed, wake the
        gateway's streams so that they re-resolve (a Service gained hints, say)."""
        for g in gateways:
            plans = self._per_client.get(g, [])
            rules = ({s for p in plans for s in p.locality_settings},
                     (any(p.hinted for p in plans), any(p.node_hinted for p in plans)))
            if (self._settings.get(g), self._hints.get(g)) != rules:
                self._settings[g], self._hints[g] = rules
                self._write(self.cache.touch, g)
                for key, (gw, _) in self._contexts.items():
                    if gw == g:
                        self._write(self.cache.touch, key)

    def _put(self, key: str, plans: list[AnyPlan], view: ProxyView | None,
             builder: ClusterBuilder | None = None) -> None:
        """Upsert the clusters (DNS) and load assignments of `plans` into one cache entry."""
        clusters, assignments = self._built(plans, view, builder)
        base = self._base.get(key)
        if clusters:
            self._write(self.cache.update, key, CLUSTER, clusters, False)
            if base is not None:
                base[CLUSTER].update(clusters)
        if assignments:
            self._write(self.cache.update, key, ENDPOINT, assignments, False)
            if base is not None:
                base[ENDPOINT].update(assignments)

    def _built(self, plans: list[AnyPlan], view: ProxyView | None, builder: ClusterBuilder | None = None
               ) -> tuple[dict[str, Resource], dict[str, Resource]]:
        """The clusters (DNS: they carry their endpoints) and load assignments of `plans` for `view`."""
        clusters, assignments = {}, {}
        for plan in plans:
            c, cla = (builder or self.builder).build(plan, view)
            if plan.inline:
                clusters[plan.ref.name] = c
            if cla is not None:
                assignments[plan.ref.name] = cla
        return clusters, assignments

    # -- per-client views -------------------------------------------------------------------
    def resolve(self, identity: ProxyIdentity, held: str = "") -> str:
        """The cache entry for a proxy: its gateway's, or the entry of its load-balancing context.

        Proxies whose locality and failoverPriority labels lead to the same endpoint priorities
        share one entry: the cost grows with distinct contexts, not with connected proxies. A
        new stream (`held` empty) that would need a view beyond `max_views` is refused
        (RESOURCE_EXHAUSTED); a connected one that a change moves to a new view is not, so that
        a config change never disconnects proxies.
        """
        identity = self._placed(identity)
        plans = self._per_client.get(identity.gateway)
        selective = identity.gateway.split("/", 1)[0] in self._selector_namespaces
        if not plans and not selective:
            return identity.gateway
        view = proxy_view(identity.locality, identity.labels, identity.node_name)
        # One lb_context per distinct locality setting, not per cluster: finding a proxy's
        # context costs the same with ten clusters or ten thousand.
        ctx = sorted({repr(lb_context(view, s, a)) for s, a in self._settings.get(identity.gateway, ())
                      if s is not None})
        hinted, node_hinted = self._hints.get(identity.gateway, (False, False))
        if hinted:
            # Topology hints: the zone decides, and the node only where node hints exist.
            ctx.append(repr(("topology", view.locality.zone, identity.node_name if node_hinted else "")))
        if selective:
            # DestinationRules there select proxies by label: the labels decide the config too.
            ctx.append(repr(identity.labels))
        key = f"{identity.gateway}@{hashlib.blake2b(repr(ctx).encode(), digest_size=6).hexdigest()}"
        if key not in self._contexts:
            if not held and len(self._contexts) >= self.max_views:
                raise Refused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                              f"gateway {identity.gateway}: {len(self._contexts)} per-client views exist, the limit "
                              f"(--max-views); this proxy's locality and labels would need another one", "views")
            self._contexts[key] = (identity.gateway, view)
            self._labels[key] = dict(identity.labels) if selective else None
            self._build_context(key)
            self.metrics.views.set(len(self._contexts))
        return key

    def _placed(self, identity: ProxyIdentity) -> ProxyIdentity:
        """A provisioned proxy says only its Pod's name (its node id, Envoy's --service-node): its
        node, and the locality of that node, come from the Pod and the Node (cluster/render.py)."""
        if identity.node_name or not identity.node_id:
            return identity
        pod = self.store.get("Pod", identity.gateway.split("/", 1)[0], identity.node_id)
        if pod is None or not pod.node_name:
            return identity
        locality = identity.locality
        if not any((locality.region, locality.zone, locality.subzone)):
            locality = self.discovery.node_locality(pod.node_name)
        return dataclasses.replace(identity, node_name=pod.node_name, locality=locality)

    def release(self, key: str) -> None:
        """No stream is served from `key` any more: forget its view and free its cache entry."""
        if self._deferred is not None:
            self._released.append(key)  # the views are being rebuilt off the loop: at the commit
            return
        if key in self._contexts and not self.cache.held(key):
            _, view = self._contexts.pop(key)
            if all(v != view for _, v in self._contexts.values()):
                self.builder.forget_view(view)
            self._labels.pop(key, None)
            self.cache.drop(key)
            self.metrics.views.set(len(self._contexts))

    def _build_context(self, key: str) -> None:
        gateway, view = self._contexts[key]
        labels = self._labels.get(key)
        if labels is not None:
            # Rules chosen by this proxy's labels may change any cluster or route: build it all.
            cfg = next((c for c in self.configs if c.key == gateway), None)
            if cfg is not None:
                # With a builder of its own: plans and clusters chosen for these labels must not
                # outlive the view in the shared builder (they would stay until the next translation).
                self._write(self.cache.set_all, key, snapshot_resources(build_snapshot(cfg, self.builder.scratch(), view, labels,
                                                                          waypoint=cfg.waypoint)))
            return
        # The shared view with this context's own clusters and assignments over it, written at
        # once: written in two steps, every per-client assignment would change twice (to the
        # shared one and back) and each stream would compare them all again.
        resources = {t: dict(r) for t, r in self._base.get(gateway, {}).items()}
        clusters, assignments = self._built(self._per_client.get(gateway, []), view)
        resources.setdefault(CLUSTER, {}).update(clusters)
        resources.setdefault(ENDPOINT, {}).update(assignments)
        self._write(self.cache.set_all, key, resources)

    @property
    def context_count(self) -> int:
        """How many per-client views exist (for metrics and tests)."""
        return len(self._contexts)

    def _addresses(self) -> dict[str, str] | None:
        """Pool addresses for our Gateways that name none (waypoints are placed by their own rules)."""
        if self.address_pool is None:
            return None
        ours = {name for name in owned_classes(self.store) if name not in WAYPOINT_CLASSES}
        gateways = [g for g in self.store.list("Gateway") if g.class_name in ours]
        # No spec.addresses, or an IPAddress without a value (asking for one to be assigned).
        keys = [f"{g.meta.namespace}/{g.meta.name}" for g in gateways
                if all(a.type == "IPAddress" and not a.value for a in g.addresses)]
        reserved = [a.value for g in self.store.list("Gateway") for a in g.addresses if a.value]
        assigned = self.address_pool.assign(keys, reserved)
        for key in sorted(set(keys) - assigned.keys()):
            log.error("address pool %s is used up: Gateway %s gets no address of its own", self.address_pool.network, key)
        return assigned

    def _translate(self, fresh: bool = False) -> None:
        """Translate the gateways; `fresh` starts from nothing (the initial load), else the
        discovery and builder results the last change did not touch are reused."""
        if fresh:
            self.discovery = Discovery(self.store, emulate_slice_controller=self.emulate_slice_controller)
            self.builder = cluster_builder(self.store, self.discovery, self.ingress_use_waypoints)
            self.routes = RouteTable(self.store, self.discovery)
        tr = translate_store(self.store, self.clock(), self.discovery,
                             ingress_use_waypoints=self.ingress_use_waypoints, addresses=self._addresses(),
                             address_usable=self.address_pool.usable if self.address_pool else None,
                             shared_host=self.shared_host, builder=self.builder, routes=self.routes,
                             route_builder=self.route_builder)
        assert tr.clusters is not None
        self.builder = tr.clusters
        before = {(c.key, c.infrastructure) for c in self.configs}
        self.configs, self.translation_errors = tr.configs, tr.errors
        # Translation stamps every condition now: one whose status did not change keeps its time.
        self.status = keep_transition_times(self.status, tr.status)
        self._cluster_users = {}
        for cfg in self.configs:
            for ref in cfg.clusters:
                self._cluster_users.setdefault((ref.namespace, ref.service), []).append(
                    (cfg.key, ref, cfg.backend_client_certificate))
            for wc in cfg.weighted_clusters:
                for part in {(r.namespace, r.service) for r, _ in wc.backends}:
                    self._cluster_users.setdefault(part, []).append((cfg.key, wc, None))
        # The gateways' clusters as their snapshots were just built (kept by the builder).
        self._per_client = {cfg.key: self.builder.gateway_clusters(cfg, waypoint=cfg.waypoint).per_client
                            for cfg in self.configs}
        self.builder.keep_gateways({cfg.key for cfg in self.configs})
        self._refresh_context_rules(list(self._per_client))
        self._selector_namespaces = {r.meta.namespace for r in self.store.list("DestinationRule")
                                     if r.workload_selector is not None}
        for snap in tr.snapshots:
            resources = snapshot_resources(snap)
            self._base[snap.gateway] = {t: dict(r) for t, r in resources.items()}
            self._write(self.cache.set_all, snap.gateway, resources)
        # Per-client views follow the new shared view; those of vanished gateways are emptied.
        live = {c.key for c in self.configs}
        kept = {k: v for k, v in self._contexts.items() if v[0] in live and self.cache.held(k)}
        for view in {v for _, v in self._contexts.values()} - {v for _, v in kept.values()}:
            self.builder.forget_view(view)
        self._contexts = kept
        self._labels = {k: v for k, v in self._labels.items() if k in self._contexts}
        self.metrics.views.set(len(self._contexts))
        self._base = {g: r for g, r in self._base.items() if g in live}
        self._write(self.cache.remove_gateways, [s.gateway for s in tr.snapshots] + list(self._contexts))
        for key in self._contexts:
            self._build_context(key)
        self.route_builder.sweep()
        if self.on_configs is not None:
            self.on_configs(self.configs)
        # Gateways that appear or vanish, or whose infrastructure (their Envoy's node metadata) changed.
        if self.on_gateways is not None and before != {(c.key, c.infrastructure) for c in self.configs}:
            self._write(self.on_gateways, self.configs)
        # What survives a translation lives until the next one: keep the collector from walking
        # it on every allocation burst (its pauses were the tail of endpoint pushes).
        gc.collect(1)  # the young generations only: cheap, and clears this translation's garbage
        gc.freeze()

    # -- running ------------------------------------------------------------------------------
    def submit(self, changes: ChangeSet) -> None:
        """Queue changes. A lone change (none pending, none in the last DEBOUNCE_S) is applied at
        once; changes that come in a burst are applied together DEBOUNCE_S after the last one,
        and a steady stream of them still lands within MAX_DELAY_S."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        lone = not self._pending and (self._last_submit is None or now - self._last_submit >= DEBOUNCE_S)
        self._last_submit = now
        self._pending.merge(changes)
        if self._first_pending is None:
            self._first_pending = now
            self.reload_log.mark("received")
        if self._flush is not None:
            self._flush.cancel()
        delay = 0.0 if lone or now - self._first_pending >= MAX_DELAY_S else DEBOUNCE_S
        self._flush = loop.call_later(delay, lambda: asyncio.ensure_future(self.flush()))

    async def flush(self) -> None:
        """Apply what is queued now, off the event loop, and wake the streams.

        The translation runs in a worker thread and its cache writes wait for the commit on the
        loop, so streams keep being answered (ACKs, pushes, the debug endpoint) meanwhile and
        never see half a change. What would read the controller's views in between (a new
        stream, a stream moving to another view) waits for `ready`.
        """
        self._flush = None
        async with self._one_apply:  # a flush that comes due meanwhile applies what came after
            received, self._first_pending = self._first_pending, None
            self.reload_log.mark("flushed")
            pending, self._pending = self._pending, ChangeSet()
            self._idle.clear()
            self._deferred = []
            try:
                await asyncio.to_thread(self.apply, pending)  # also when only errors changed: the gauge moves
            except Exception:
                # Said now (not when the task is collected), and later edits are still applied.
                log.exception("applying a change set failed")
            finally:
                deferred, self._deferred = self._deferred, None
                released, self._released = self._released, []
                self.cache.change_received = received  # where proxy convergence counts from
                try:
                    for fn, args in deferred:
                        fn(*args)
                    for key in released:
                        self.release(key)
                finally:
                    self.cache.change_received = None
                    self._idle.set()
            await self.cache.notify()

    async def watch(self) -> None:
        """Follow the provider until cancelled."""
        async for changes in self.provider.watch():
            self.submit(changes)
