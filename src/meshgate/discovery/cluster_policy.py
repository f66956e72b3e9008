"""A cluster's decisions (ir_clusters.ClusterPolicy) from the DestinationRule that applies to it.

Istio's semantics live here, not in xds/: `portLevelSettings` replace the rule-wide sections for
their port; a simple algorithm wins over consistentHash; ORIGINAL_DST clusters (resolution NONE)
keep Envoy's own load balancing; the deprecated consecutiveErrors stands in for
consecutive5xxErrors; TLS is originated for SIMPLE and MUTUAL only (ISTIO_MUTUAL needs mesh
certificates meshgate does not issue), to the service's host unless the rule names an SNI; HTTP/2
is the port's protocol or the rule's h2UpgradePolicy UPGRADE; the locality setting in force is
Istio's GetEffectiveLbSetting (discovery/locality.py).

A Kubernetes Service port a BackendTLSPolicy applies to (discovery/backend_tls.py) gets the
policy's TLS, unless the DestinationRule has `tls` for the port: then the rule's wins, as in
Istio (the rule is the more specific, mesh-side setting), whatever its mode.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import ir_clusters as irc
from ..incremental.reads import Recorder, host_lookups
from ..ir import SourceRef
from ..resources.gateway_api.backend_tls_policy import BackendTLSPolicy
from ..resources.istio import (
    ClientTLS,
    ConnectionPool,
    ConsistentHash,
    DestinationRule,
    LoadBalancerSettings,
    OutlierDetection,
)
from ..resources.meta import metadata_annotations
from .backend_tls import policy_for_port, well_known_problem
from .destination_rules import destination_rule_for, port_policy
from .locality import effective_setting
from .model import PortModel, ServiceModel
from .protocols import HTTP2, negotiated_by_alpn, upstream_protocol

_SIMPLE = ("ROUND_ROBIN", "LEAST_REQUEST", "RANDOM")
DESTINATION_RULE_VERSION = "networking.istio.io/v1"
BACKEND_TLS_POLICY_VERSION = "gateway.networking.k8s.io/v1"


def _hash_key(ch: ConsistentHash) -> irc.HashKey | None:
    # One key, in the order Istio reads them (validation allows only one anyway).
    if ch.http_header_name:
        return irc.HashKey("header", ch.http_header_name)
    if ch.http_cookie is not None:
        return irc.HashKey("cookie", ch.http_cookie.name, ch.http_cookie.path or "", ch.http_cookie.ttl_ms)
    if ch.use_source_ip:
        return irc.HashKey("source_ip")
    if ch.http_query_parameter_name:
        return irc.HashKey("query_parameter", ch.http_query_parameter_name)
    return None


def _load_balancer(lb: LoadBalancerSettings) -> irc.LoadBalancer:
    weighted = lb.locality_lb_setting is not None and bool(lb.locality_lb_setting.distribute)
    if lb.simple in _SIMPLE:
        return irc.LoadBalancer(lb.simple or "", locality_weighted=weighted)
    ch = lb.consistent_hash
    if ch is None:
        return irc.LoadBalancer(locality_weighted=weighted)
    if ch.hash_algorithm == "MAGLEV":
        return irc.LoadBalancer("MAGLEV", maglev_table_size=ch.maglev_table_size or None, locality_weighted=weighted)
    return irc.LoadBalancer("RING_HASH", minimum_ring_size=ch.minimum_ring_size or None, locality_weighted=weighted)


def _outlier_detection(od: OutlierDetection) -> irc.OutlierDetection:
    five = od.consecutive_5xx_errors if od.consecutive_5xx_errors is not None else od.consecutive_errors
    return irc.OutlierDetection(
        consecutive_5xx=five,
        consecutive_gateway_errors=od.consecutive_gateway_errors,
        split_external_local_origin_errors=od.split_external_local_origin_errors,
        # Counted apart only when local-origin errors are split from the others.
        consecutive_local_origin_failures=(od.consecutive_local_origin_failures
                                           if od.split_external_local_origin_errors else None),
        interval_ms=od.interval_ms,
        base_ejection_time_ms=od.base_ejection_time_ms,
        max_ejection_percent=od.max_ejection_percent,
        min_health_percent=od.min_health_percent or 0,
    )


def _connection_pool(cp: ConnectionPool) -> irc.ConnectionPool:
    tcp, http = cp.tcp, cp.http
    ka = tcp.tcp_keepalive if tcp is not None else None
    return irc.ConnectionPool(
        max_connections=tcp.max_connections if tcp is not None else None,
        connect_timeout_ms=tcp.connect_timeout_ms if tcp is not None else None,
        keepalive=None if ka is None else irc.TcpKeepalive(ka.probes, ka.time_ms, ka.interval_ms),
        max_connection_duration_ms=tcp.max_connection_duration_ms if tcp is not None else None,
        max_pending_requests=http.http1_max_pending_requests if http is not None else None,
        max_requests=http.http2_max_requests if http is not None else None,
        max_retries=http.max_retries if http is not None else None,
        max_requests_per_connection=http.max_requests_per_connection if http is not None else None,
        idle_timeout_ms=http.idle_timeout_ms if http is not None else None,
    )


def _tls(tls: ClientTLS, service: ServiceModel) -> irc.UpstreamTLS | None:
    if tls.mode not in ("SIMPLE", "MUTUAL"):
        return None  # DISABLE; ISTIO_MUTUAL needs mesh certificates meshgate does not issue
    credential = irc.SecretRef(service.namespace, tls.credential_name) if tls.credential_name else None
    return irc.UpstreamTLS(tls.mode, tls.sni or service.hosts[0], tls.subject_alt_names, credential,
                           verify=not tls.insecure_skip_verify)


def backend_tls(policy: BackendTLSPolicy, alpn: tuple[str, ...] = ()) -> irc.UpstreamTLS:
    """A BackendTLSPolicy's TLS: SNI the hostname; the certificate must carry one of the
    subjectAltNames, else the hostname; trusted: the policy's CAs, or the system's; `alpn` offered."""
    sans = policy.subject_alt_names
    dns = tuple(s.value for s in sans if s.type == "Hostname") if sans else (policy.hostname,)
    uris = tuple(s.value for s in sans if s.type == "URI")
    ns = policy.meta.namespace
    return irc.UpstreamTLS(
        "SIMPLE", policy.hostname, dns, uri_subject_alt_names=uris,
        ca=tuple(irc.CARef(r.group, r.kind, ns, r.name) for r in policy.ca_certificate_refs),
        # An unknown well-known set trusts nothing (the policy is not accepted, and must not
        # fall back to plaintext or to another set).
        system_ca=policy.well_known_ca is not None and well_known_problem(policy) is None,
        trust_required=True, alpn=alpn)


def tls_policy_ref(policy: BackendTLSPolicy) -> SourceRef:
    """The BackendTLSPolicy as its clusters' xDS metadata names it."""
    meta = policy.meta
    return SourceRef("BackendTLSPolicy", BACKEND_TLS_POLICY_VERSION, meta.namespace, meta.name,
                     annotations=metadata_annotations(meta.annotations))


def rule_ref(rule: DestinationRule) -> SourceRef:
    """The DestinationRule as its clusters' xDS metadata names it."""
    meta = rule.meta
    return SourceRef("DestinationRule", DESTINATION_RULE_VERSION, meta.namespace, meta.name,
                     annotations=metadata_annotations(meta.annotations))


def cluster_policy(rule: DestinationRule | None, port: PortModel, service: ServiceModel,
                   tls_policy: BackendTLSPolicy | None = None) -> irc.ClusterPolicy:
    """The decisions for the cluster of `service`'s `port` under `rule` (None: no rule applies)
    and `tls_policy`, the BackendTLSPolicy of the port (the rule's `tls` wins over it)."""
    policy = port_policy(rule.traffic_policy if rule is not None else None, port.number)
    lb = policy.load_balancer if policy is not None else None
    od = policy.outlier_detection if policy is not None else None
    cp = policy.connection_pool if policy is not None else None
    tls = policy.tls if policy is not None else None
    dr_setting = lb.locality_lb_setting if lb is not None else None
    rule_setting = None if dr_setting is None else irc.LocalitySetting(
        dr_setting.enabled, dr_setting.distribute, dr_setting.failover, dr_setting.failover_priority)
    eff = effective_setting(rule_setting, od is not None, service.traffic_distribution,
                            service.traffic_distribution_source)
    locality = irc.LocalityPolicy(eff.setting, eff.applies, eff.source, eff.forced,
                                  disabled=dr_setting is not None and dr_setting.enabled is False)
    h2_upgrade = cp is not None and cp.http is not None and cp.http.h2_upgrade_policy == "UPGRADE"
    http2 = upstream_protocol(port) == HTTP2 or h2_upgrade
    policy_tls = tls_policy if tls is None else None  # the DestinationRule's tls wins
    # Over a BackendTLSPolicy's TLS, a port that leaves its HTTP version open gets what ALPN
    # negotiates (a GRPCRoute's backend then speaks HTTP/2 to a server offering h2).
    auto_http = policy_tls is not None and not http2 and negotiated_by_alpn(port)
    alpn = ("h2",) if http2 else ("h2", "http/1.1") if auto_http else ()
    return irc.ClusterPolicy(
        # An ORIGINAL_DST cluster sends where each connection was going: no algorithm to choose.
        load_balancer=_load_balancer(lb) if lb is not None and service.resolution != "NONE" else None,
        hash_key=_hash_key(lb.consistent_hash) if lb is not None and lb.consistent_hash is not None else None,
        outlier_detection=_outlier_detection(od) if od is not None else None,
        connection_pool=_connection_pool(cp) if cp is not None else None,
        tls=_tls(tls, service) if tls is not None else backend_tls(policy_tls, alpn) if policy_tls is not None else None,
        http2=http2,
        auto_http=auto_http,
        locality=locality,
        rule=rule_ref(rule) if rule is not None else None,
        tls_policy=tls_policy_ref(policy_tls) if policy_tls is not None else None,
    )


class ClusterPolicies:
    """The DestinationRules and BackendTLSPolicies of one version of the store, as the policies of
    the clusters they shape; each lookup records the rule hosts and the Service it depends on
    (incremental/reads.py), so that a rule or policy change drops only the plans of its host or
    Service."""

    def __init__(self, rules: Iterable[DestinationRule], recorder: Recorder,
                 tls_policies: Iterable[BackendTLSPolicy] = ()) -> None:
        self._rules = list(rules)
        self._recorder = recorder
        self._tls_policies = list(tls_policies)

    def policy(self, host: str, namespace: str, labels: dict[str, str] | None, port: PortModel,
               service: ServiceModel) -> irc.ClusterPolicy:
        """The policy of the cluster of `service`'s `port` (its host `host`) for a proxy in
        `namespace` with `labels`."""
        for candidate in host_lookups(host):
            self._recorder.read(("dr-host", candidate))
        tls_policy = None
        if service.kind == "Service":  # a BackendTLSPolicy targets Kubernetes Services only
            self._recorder.read(("btls-target", service.namespace, service.name))
            tls_policy = policy_for_port(self._tls_policies, service.namespace, service.name, port.name)
        return cluster_policy(destination_rule_for(self._rules, host, namespace, labels), port, service, tls_policy)
