"""A BackendTrafficPolicy's effect on one route and the clusters it sends to.

The route keeps what it says itself (its rule's timeouts and retry: Gateway API fields on the
route are the more specific); the policy fills in the rest and adds fault injection and rate
limits, and names the route's statistics (telemetry.metrics.routeStatName, rendered for each
route). Cluster settings (health checks, circuit breakers, load balancer, timeouts, keepalive)
cannot go on the shared cluster of a service port, which other routes use too: the route's
backends move to a cluster of their own, `outbound|<port>|policy.<ns>.<name>|<host>` (the same
endpoints, the policy's settings over the DestinationRule's; ClusterRef.traffic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ... import ir
from ... import ir_clusters as irc
from ...naming import cluster_name, gateway_domain, route_key
from ...resources.envoy_gateway import backend_traffic_policy as btp
from .route_context import RouteContext

API_VERSION = "gateway.envoyproxy.io/v1alpha1"


@dataclass(frozen=True, slots=True)
class BackendTrafficEffect:
    """What one policy does, in IR terms: to clusters (`cluster`) and to routes."""

    cluster: irc.BackendTraffic | None = None
    retry: ir.Retry | None = None
    request_timeout_ms: int | None = None
    fault: ir.FaultInjection | None = None
    rate_limit: ir.RateLimit | None = None
    route_stat_name: str | None = None  # the template (telemetry.metrics.routeStatName), rendered per route
    compression: tuple[ir.Compression, ...] = ()
    request_buffer_bytes: int | None = None
    response_overrides: tuple[ir.ResponseOverride, ...] = ()
    tracing: ir.RouteTracing | None = None
    stream_idle_timeout_ms: int | None = None


def _pool(c: btp.Connection) -> irc.ConnectionPool:
    ka = c.keepalive
    return irc.ConnectionPool(
        c.max_connections, c.connect_timeout_ms,
        irc.TcpKeepalive(ka.probes, ka.time_ms, ka.interval_ms) if ka is not None else None,
        c.max_connection_duration_ms, c.max_pending_requests, c.max_requests, c.max_retries,
        c.max_requests_per_connection, c.idle_timeout_ms, max_connections_per_endpoint=c.max_connections_per_endpoint)


def _rate_limit(rl: btp.RateLimit, owner: ir.SourceRef) -> ir.RateLimit:
    return ir.RateLimit(rl.scope, tuple(
        ir.RateLimitRule(r.requests, r.unit_s, tuple(ir.HeaderSelector(h.name, h.kind, h.value, h.invert)
                                                     for h in r.headers), r.source_cidr, r.source_distinct)
        for r in rl.rules), owner)


def _override(o: btp.ResponseOverride) -> ir.ResponseOverride:
    r, d = o.response, o.redirect
    return ir.ResponseOverride(
        o.codes, r.status if r else None, r.content_type if r else None, r.body if r else None,
        r.headers if r else (),
        ir.OverrideRedirect(d.status, d.scheme, d.hostname, d.port, d.path) if d is not None else None)


def backend_traffic_effect(policy: btp.BackendTrafficPolicy) -> BackendTrafficEffect:
    """The IR of a policy's settings (made once per translation, shared by its routes)."""
    owner = ir.SourceRef(btp.KIND, API_VERSION, policy.meta.namespace, policy.meta.name)
    hc = policy.health_check
    od = policy.passive
    lb = policy.load_balancer
    on = policy.hash_on
    cluster = None
    h2 = policy.http2
    if any(v is not None for v in (hc, od, lb, policy.connection, policy.panic_threshold, h2, policy.dns,
                                   policy.proxy_protocol)) or policy.use_client_protocol:
        cluster = irc.BackendTraffic(
            owner,
            health_check=irc.ActiveHealthCheck(
                hc.type, hc.timeout_ms, hc.interval_ms, hc.unhealthy_threshold, hc.healthy_threshold, hc.path,
                hc.method, hc.host, hc.expected_statuses, hc.expected_response, hc.send, hc.grpc_service)
            if hc is not None else None,
            outlier_detection=irc.OutlierDetection(
                od.consecutive_5xx, od.consecutive_gateway_errors, od.split_external_local_origin_errors,
                od.consecutive_local_origin_failures, od.interval_ms, od.base_ejection_time_ms,
                od.max_ejection_percent, failure_percentage=od.failure_percentage,
                always_eject_one=od.always_eject_one) if od is not None else None,
            load_balancer=irc.LoadBalancer(lb.algorithm, maglev_table_size=lb.maglev_table_size,
                                           slow_start_ms=lb.slow_start_ms)
            if lb is not None else None,
            hash_key=irc.HashKey(on.kind, on.name, on.path, on.ttl_ms) if on is not None else None,
            connection_pool=_pool(policy.connection) if policy.connection is not None else None,
            panic_threshold=policy.panic_threshold,
            downstream_protocol=policy.use_client_protocol,
            http2_settings=irc.Http2Settings(h2.stream_window, h2.connection_window, h2.max_streams,
                                             h2.terminate_stream) if h2 is not None else None,
            dns=irc.DnsSettings(policy.dns.refresh_ms, policy.dns.respect_ttl, policy.dns.lookup_family)
            if policy.dns is not None else None,
            proxy_protocol=policy.proxy_protocol)
    r = policy.retry
    f = policy.fault
    return BackendTrafficEffect(
        cluster,
        ir.Retry(r.num_retries, r.status_codes, r.backoff_ms, r.triggers, r.per_try_timeout_ms, r.max_backoff_ms)
        if r is not None else None,
        policy.request_timeout_ms,
        ir.FaultInjection(f.delay_ms, f.delay_percent, f.abort_status, f.abort_grpc_status, f.abort_percent)
        if f is not None else None,
        _rate_limit(policy.rate_limit, owner) if policy.rate_limit is not None else None,
        policy.route_stat_name,
        tuple(ir.Compression(c.algorithm, c.settings, c.min_content_length, c.preferred) for c in policy.compression),
        policy.request_buffer_bytes,
        tuple(_override(o) for o in policy.response_overrides),
        ir.RouteTracing(t.random_percent, t.client_percent, t.overall_percent,
                        tuple(ir.TracingTag(g.name, g.type, g.value, g.default) for g in t.tags))
        if (t := policy.tracing) is not None else None,
        stream_idle_timeout_ms=policy.stream_idle_timeout_ms)


def route_stat_name(template: str, source: ir.SourceRef, rule_name: str | None) -> str:
    """A routeStatName template rendered for a route made from the rule `rule_name` (None: an
    unnamed rule, "-") of the route `source`; %ROUTE_KIND% as Envoy Gateway renders it, the kind
    itself (HTTPRoute), though its API reference shows it lowercased."""
    name = (template.replace("%ROUTE_NAME%", source.name)
            .replace("%ROUTE_NAMESPACE%", source.namespace)
            .replace("%ROUTE_KIND%", source.kind)
            .replace("%ROUTE_RULE_NAME%", rule_name or "-"))
    # Envoy's tag extraction ends a name segment at a dot: a dot in the stat prefix would cut the
    # envoy_route label short and move the rest into the metric's name.
    return name.replace(".", "_")


def traffic_ref(ref: ir.ClusterRef, traffic: irc.BackendTraffic) -> ir.ClusterRef:
    """The policy's variant of a service port's cluster."""
    return dataclasses.replace(ref, name=cluster_name(ref.port, ref.host, traffic.subset), traffic=traffic)


def apply_backend_traffic(route: ir.Route, effect: BackendTrafficEffect, refs: Mapping[str, ir.ClusterRef],
                          variant: Callable[[ir.ClusterRef, irc.BackendTraffic], ir.ClusterRef],
                          where: RouteContext) -> ir.Route:
    """`route` with a policy's `effect` (`refs`: the gateway's clusters by name; `variant`: the
    policy's variant of one, recorded as a cluster the gateway needs; `where`: the gateway and
    route configuration serving it, which name a global rate limit's buckets)."""
    changes: dict = {}
    if route.redirect is None and route.direct_status is None:
        if effect.retry is not None and route.retry is None:
            changes["retry"] = effect.retry
        if effect.request_timeout_ms is not None and route.timeout_ms is None:
            changes["timeout_ms"] = effect.request_timeout_ms
        if effect.stream_idle_timeout_ms is not None and route.stream_idle_timeout_ms is None:
            changes["stream_idle_timeout_ms"] = effect.stream_idle_timeout_ms
        traffic = effect.cluster
        if traffic is not None:
            backends = []
            for b in route.backends:
                ref = refs.get(b.cluster) if b.cluster else None
                if ref is not None and not ref.passthrough:
                    b = dataclasses.replace(b, cluster=variant(ref, traffic).name)
                backends.append(b)
            changes["backends"] = tuple(backends)
        if effect.compression:
            changes["compression"] = effect.compression
        if effect.request_buffer_bytes is not None:
            changes["request_buffer_bytes"] = effect.request_buffer_bytes
        if effect.tracing is not None:
            changes["tracing"] = effect.tracing
    if effect.fault is not None:
        changes["fault"] = effect.fault
    if effect.response_overrides:
        changes["response_overrides"] = effect.response_overrides
    if effect.rate_limit is not None:
        rl = effect.rate_limit
        if rl.scope == "Global":
            rl = dataclasses.replace(rl, domain=gateway_domain(*where.gateway),
                                     key=route_key(where.route_config, route.name))
        changes["rate_limit"] = rl
    if effect.route_stat_name is not None and route.stat_name is None and route.source is not None:
        changes["stat_name"] = route_stat_name(effect.route_stat_name, route.source, route.rule_name)
    return dataclasses.replace(route, **changes) if changes else route
