"""The data flow of ARCHITECTURE §1 for one version of the inputs: store → discovery → gateway → xDS."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import ir
from .collector import collector_paused
from .discovery.cluster_policy import ClusterPolicies
from .discovery.index import Discovery
from .discovery.locality import ProxyView
from .discovery.waypoints import Capture, captures, ingress_uses_waypoint, waypoints
from .gateway.backends import service_models
from .gateway.route_table import RouteTable
from .gateway.translate import translate_gateways
from .resources.errors import InputError
from .resources.loader import InputLimits, load_paths
from .store import Store
from .xds.route_builder import RouteBuilder
from .xds.snapshot import ClusterBuilder, GatewaySnapshot, PolicyLookup, build_snapshot


@dataclass(slots=True)
class Translation:
    """Every gateway's xDS resources, status for every object we own, and input problems."""

    snapshots: list[GatewaySnapshot] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    configs: list[ir.GatewayConfig] = field(default_factory=list)
    clusters: ClusterBuilder | None = None  # what built the clusters; the controller reuses it for pushes

    @property
    def failed(self) -> bool:
        """True when some input was invalid (warnings aside)."""
        return any(e.severity == "error" for e in self.errors)


def now_rfc3339() -> str:
    """The current time as Kubernetes writes timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ingress_via_waypoint(store: Store, discovery: Discovery, enabled: bool,
                         waypoint_captures: list[Capture] | None = None) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """Captured services that ingress gateways reach through their waypoint, and their VIPs.

    `waypoint_captures` is `captures(store)` when the caller has it already. With `enabled`
    (INGRESS_USE_WAYPOINTS) off there are none: the ingress-use-waypoint labels are inert.
    """
    out: dict[tuple[str, str, str], tuple[str, ...]] = {}
    if not enabled:
        return out
    for c in captures(store) if waypoint_captures is None else waypoint_captures:
        if not c.captured:
            continue
        use, _ = ingress_uses_waypoint(store, c.kind, c.namespace, c.name, enabled)
        if not use:
            continue
        models = service_models(discovery, c.kind, c.namespace, c.name)
        vips = tuple(dict.fromkeys(v for m in models for v in m.vips))
        if vips:
            out[(c.kind, c.namespace, c.name)] = vips
    return out


def cluster_policies(store: Store, discovery: Discovery) -> PolicyLookup:
    """The DestinationRules and BackendTLSPolicies of one version of the store, as the cluster builder looks policies up
    (lookups recorded by `discovery`'s recorder, which the builder shares)."""
    return ClusterPolicies(store.list("DestinationRule"), discovery.recorder, store.list("BackendTLSPolicy")).policy


def cluster_builder(store: Store, discovery: Discovery, ingress_use_waypoints: bool = True,
                    waypoint_captures: list[Capture] | None = None) -> ClusterBuilder:
    """The cluster builder for one version of the store (`waypoint_captures` as for ingress_via_waypoint)."""
    return ClusterBuilder(discovery, cluster_policies(store, discovery), lambda ns, name: store.get("Secret", ns, name),
                          ingress_via_waypoint(store, discovery, ingress_use_waypoints, waypoint_captures),
                          config_maps=lambda ns, name: store.get("ConfigMap", ns, name))


def translate_store(store: Store, now: str, discovery: Discovery | None = None,
                    proxy: ProxyView | None = None, labels: dict[str, str] | None = None,
                    ingress_use_waypoints: bool = True, addresses: Mapping[str, str] | None = None,
                    shared_host: bool = False, builder: ClusterBuilder | None = None,
                    routes: RouteTable | None = None, route_builder: RouteBuilder | None = None,
                    address_usable: Callable[[str], bool] | None = None) -> Translation:
    """Translate one version of the store; `now` stamps lastTransitionTime on conditions.

    With `proxy`, endpoints are placed for that proxy (its locality and labels); `labels` also
    select DestinationRules by workloadSelector. `addresses` ("ns/name" → IP) places Gateways
    that have no `spec.addresses`. `shared_host`: all Gateways' proxies run on this host, so
    they must not bind the same address:port (the oldest Gateway keeps it). `builder`: the
    cluster builder of an earlier translation over the same `discovery`, already told what
    changed (its plans and clusters that still hold are reused); `routes` likewise, the route
    table of an earlier translation (gateway/rules.py); `route_builder`, one that keeps route
    messages across translations (xds/route_builder.py). `address_usable` judges the addresses a
    Gateway asks for in spec.addresses (with an address pool: those of the pool); None: any.
    """
    with collector_paused():
        discovery = discovery or Discovery(store)
        index = waypoints(store)
        # Without a waypoint nothing is captured: no need to judge every service.
        caught = captures(store, index) if index else []
        gateways = translate_gateways(store, discovery, now, index, caught, addresses, shared_host, routes,
                                      address_usable)
        if builder is None:
            clusters = cluster_builder(store, discovery, ingress_use_waypoints, caught)
        else:
            clusters = builder
            clusters.update_inputs(cluster_policies(store, discovery),
                                   ingress_via_waypoint(store, discovery, ingress_use_waypoints, caught))
        rb = route_builder or RouteBuilder()
        snapshots = [build_snapshot(cfg, clusters, proxy, labels, waypoint=cfg.waypoint, routes_builder=rb)
                     for cfg in gateways.gateways]
        if builder is None:
            clusters.release()  # the snapshots hold the messages now; they go when the snapshots do
    return Translation(snapshots, gateways.status, gateways.problems, configs=gateways.gateways, clusters=clusters)


def translate_paths(
    paths: Iterable[str | os.PathLike[str]], now: str | None = None, created: str | None = None,
    proxy: ProxyView | None = None, labels: dict[str, str] | None = None, ingress_use_waypoints: bool = True,
    limits: InputLimits | None = None,
) -> Translation:
    """Load files and directories and translate them (what `meshgate translate` does)."""
    loaded = load_paths(paths, created, limits or InputLimits())
    store, duplicates = Store.from_load(loaded)
    # The store lives as long as the process: keep the collector from walking it again and again.
    gc.freeze()
    out = translate_store(store, now or now_rfc3339(), proxy=proxy, labels=labels,
                          ingress_use_waypoints=ingress_use_waypoints)
    out.errors = loaded.errors + duplicates + out.errors  # + what translation found (a Gateway's unknown class)
    return out
