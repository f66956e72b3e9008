"""What decides a cluster's config before any proxy is considered: a service port's plan
(ClusterPlan), and a weighted cluster's (WeightedPlan: the plans of the clusters whose endpoints
it joins, each with its weight). Planned by the cluster builder (xds/snapshot.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir
from ..discovery.model import EndpointModel, PortModel, ServiceModel
from ..discovery.topology_filter import has_hints
from ..ir_clusters import ClusterPolicy, LocalitySetting
from .metadata import object_ref


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    """Everything that decides one cluster's config, before any proxy is considered."""

    ref: ir.ClusterRef
    port: PortModel
    service: ServiceModel
    endpoints: tuple[EndpointModel, ...]
    policy: ClusterPolicy  # every decision besides the endpoints, and the DestinationRule behind them
    # What a proxy without topology filtering is sent: `endpoints`, or, when none is ready,
    # the serving-terminating ones as healthy (kube-proxy's fallback).
    served: tuple[EndpointModel, ...]

    @property
    def setting(self) -> LocalitySetting | None:
        """The locality load balancing setting, when it shapes this cluster."""
        return self.policy.locality.setting

    @property
    def applies(self) -> bool:
        """Whether failover/failoverPriority apply (outlierDetection, or forced by trafficDistribution)."""
        return self.policy.locality.applies

    @property
    def locality_source(self) -> str:
        """Where the locality setting came from, in words (for explanations)."""
        return self.policy.locality.source

    @property
    def forced(self) -> bool:
        """Whether the service's trafficDistribution chose the locality setting."""
        return self.policy.locality.forced

    @property
    def locality_lb(self) -> bool:
        """Whether locality load balancing gives proxies different priorities or weights."""
        return self.setting is not None and (self.applies or bool(self.setting.distribute))

    @property
    def hinted(self) -> bool:
        """Whether EndpointSlice topology hints give proxies different endpoint sets."""
        return has_hints(self.endpoints)

    @property
    def node_hinted(self) -> bool:
        return any(ep.hints_nodes for ep in self.endpoints)

    @property
    def locality_settings(self) -> tuple[tuple[LocalitySetting | None, bool], ...]:
        """The (locality setting, applies) pair that gives proxies different priorities, if any."""
        return ((self.setting, self.applies),) if self.locality_lb else ()

    @property
    def per_client(self) -> bool:
        """Whether different proxies get different endpoints, priorities or weights."""
        return self.locality_lb or self.hinted

    @property
    def source(self) -> ir.SourceRef:
        """The Service or ServiceEntry this cluster load-balances over (for xDS metadata)."""
        return object_ref(self.ref.service_kind, self.ref.namespace, self.ref.service, self.service.annotations)

    @property
    def sources(self) -> tuple[ir.SourceRef, ...]:
        """What made the cluster (its xDS metadata): the Service or ServiceEntry, and the
        DestinationRule when one applies. Never the routes that use it: those are many, and
        a route added to a Service in use must leave its cluster as it was."""
        return (self.source, *self.policy.sources)

    @property
    def presented_certificate(self) -> str | None:
        """The SDS name of the gateway's backend client certificate the cluster presents, if any."""
        tls = self.policy.tls
        return tls.presented_certificate or None if tls is not None else None

    @property
    def inline(self) -> bool:
        """DNS clusters carry their endpoints in the cluster itself."""
        return self.service.resolution in ("DNS", "DNS_ROUND_ROBIN")

    @property
    def has_eds(self) -> bool:
        return self.service.resolution in ("", "STATIC")


@dataclass(frozen=True, slots=True)
class WeightedPart:
    """One cluster a weighted cluster is made of: its plan, its weight and, for an ingress
    gateway that sends its service to a waypoint, the service's VIPs (then its endpoints)."""

    plan: ClusterPlan
    weight: int
    vips: tuple[str, ...] = ()

    @property
    def per_client(self) -> bool:
        """Whether different proxies get different endpoints of it (never through VIPs)."""
        return not self.vips and self.plan.per_client


@dataclass(frozen=True, slots=True)
class WeightedPlan:
    """A weighted cluster's plan (ir.WeightedCluster): its parts, in the route's order. Its
    endpoints are its parts' as each part's own cluster sends them to a proxy, so it differs
    per proxy where one of theirs does, and for the same reasons."""

    ref: ir.WeightedCluster
    parts: tuple[WeightedPart, ...]

    inline = False  # its endpoints come over EDS
    has_eds = True
    presented_certificate = None  # it carries no TLS of its own

    @property
    def per_client(self) -> bool:
        """Whether different proxies get different endpoints, priorities or weights."""
        return any(p.per_client for p in self.parts)

    @property
    def hinted(self) -> bool:
        """Whether topology hints give proxies different endpoint sets (in some part)."""
        return any(p.per_client and p.plan.hinted for p in self.parts)

    @property
    def node_hinted(self) -> bool:
        return any(p.per_client and p.plan.node_hinted for p in self.parts)

    @property
    def locality_settings(self) -> tuple[tuple[LocalitySetting | None, bool], ...]:
        """The (locality setting, applies) pairs that give proxies different priorities."""
        return tuple(dict.fromkeys(s for p in self.parts if p.per_client for s in p.plan.locality_settings))

    @property
    def sources(self) -> tuple[ir.SourceRef, ...]:
        """What made the cluster (its xDS metadata): the route, then what made each part."""
        return tuple(dict.fromkeys((self.ref.source, *(s for p in self.parts for s in p.plan.sources))))


AnyPlan = ClusterPlan | WeightedPlan
