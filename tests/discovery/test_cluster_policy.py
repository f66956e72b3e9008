"""DestinationRule → ir_clusters.ClusterPolicy: where Istio's semantics for a cluster's decisions
live (discovery/cluster_policy.py), so that xds/ only spells them."""

from __future__ import annotations

import textwrap

from meshgate import ir_clusters as irc
from meshgate.discovery.cluster_policy import ClusterPolicies, cluster_policy
from meshgate.discovery.model import PortModel, ServiceModel
from meshgate.incremental.reads import Recorder
from meshgate.ir import SourceRef
from meshgate.resources.istio import DestinationRule
from meshgate.resources.loader import load_text

CREATED = "2026-01-01T00:00:00Z"
HTTP = PortModel("http", 80, 8080, "TCP")
GRPC = PortModel("grpc", 81, 8081, "TCP")
SERVICE = ServiceModel("Service", "apps", "web", ("web.apps.svc.cluster.local",), ("10.0.0.1",), (HTTP, GRPC))


def rule(policy: str, namespace: str = "apps", host: str = "web") -> DestinationRule:
    """A DestinationRule for web with this trafficPolicy (YAML), loaded as files are."""
    body = textwrap.indent(textwrap.dedent(policy).strip("\n"), "    ")
    text = (f"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: web\n"
            f"  namespace: {namespace}\n  annotations: {{metadata.meshgate.io/team: payments, other: x}}\n"
            f"spec:\n  host: {host}\n  trafficPolicy:\n{body}\n")
    result = load_text(text, "dr.yaml", CREATED)
    assert [str(e) for e in result.errors if e.severity == "error"] == []
    (obj,) = result.objects
    assert isinstance(obj, DestinationRule)
    return obj


def test_no_rule_keeps_every_default_and_the_port_protocol() -> None:
    assert cluster_policy(None, HTTP, SERVICE) == irc.ClusterPolicy(
        locality=irc.LocalityPolicy(None, False, "the mesh default, without outlierDetection"))
    assert cluster_policy(None, GRPC, SERVICE).http2  # the port name says gRPC


def test_port_level_settings_replace_the_rule_wide_sections_for_their_port() -> None:
    dr = rule("""
        loadBalancer: {simple: LEAST_REQUEST}
        connectionPool: {tcp: {maxConnections: 10}}
        portLevelSettings:
        - port: {number: 81}
          loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}}
    """)
    wide, port = cluster_policy(dr, HTTP, SERVICE), cluster_policy(dr, GRPC, SERVICE)
    assert (wide.load_balancer, wide.hash_key) == (irc.LoadBalancer("LEAST_REQUEST"), None)
    assert port.load_balancer == irc.LoadBalancer("MAGLEV", maglev_table_size=65537)
    assert port.hash_key == irc.HashKey("header", "x-user")
    # A section the port does not set stays the rule's.
    assert wide.connection_pool == port.connection_pool == irc.ConnectionPool(max_connections=10)


def test_the_rule_is_named_with_its_metadata_annotations() -> None:
    got = cluster_policy(rule("loadBalancer: {simple: RANDOM}"), HTTP, SERVICE)
    assert got.rule == SourceRef("DestinationRule", "networking.istio.io/v1", "apps", "web",
                                 annotations=(("team", "payments"),))
    assert got.sources == (got.rule,)


def test_consistent_hash_keys_and_ring_hash_by_default() -> None:
    cookie = cluster_policy(rule("loadBalancer: {consistentHash: {httpCookie: {name: s, path: /a, ttl: 10s},"
                                 " ringHash: {minimumRingSize: 1024}}}"), HTTP, SERVICE)
    assert cookie.load_balancer == irc.LoadBalancer("RING_HASH", minimum_ring_size=1024)
    assert cookie.hash_key == irc.HashKey("cookie", "s", "/a", 10_000)
    assert cluster_policy(rule("loadBalancer: {consistentHash: {useSourceIp: true}}"), HTTP, SERVICE).hash_key == \
        irc.HashKey("source_ip")
    assert cluster_policy(rule("loadBalancer: {consistentHash: {httpQueryParameterName: q}}"), HTTP,
                          SERVICE).hash_key == irc.HashKey("query_parameter", "q")


def test_original_dst_keeps_its_own_load_balancing_but_routes_still_hash() -> None:
    entry = ServiceModel("ServiceEntry", "apps", "ext", ("ext.example.com",), (), (HTTP,), resolution="NONE")
    got = cluster_policy(rule("loadBalancer: {consistentHash: {httpHeaderName: x-user}}"), HTTP, entry)
    assert got.load_balancer is None
    assert got.hash_key == irc.HashKey("header", "x-user")


def test_distribute_asks_for_locality_weights_even_when_disabled() -> None:
    dr = rule("loadBalancer: {localityLbSetting: {enabled: false, distribute: [{from: 'r1/*', to: {'r1/*': 100}}]}}")
    got = cluster_policy(dr, HTTP, SERVICE)
    assert got.load_balancer == irc.LoadBalancer(locality_weighted=True)
    assert got.locality == irc.LocalityPolicy(None, False, "the DestinationRule's localityLbSetting has enabled: false",
                                              disabled=True)


def test_failover_applies_with_outlier_detection_and_the_deprecated_count_stands_in() -> None:
    dr = rule("""
        loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r2}]}}
        outlierDetection: {consecutiveErrors: 7, consecutiveLocalOriginFailures: 3,
                           splitExternalLocalOriginErrors: true, minHealthPercent: 20}
    """)
    got = cluster_policy(dr, HTTP, SERVICE)
    assert got.locality == irc.LocalityPolicy(irc.LocalitySetting(failover=(("r1", "r2"),)), True,
                                              "the DestinationRule's localityLbSetting")
    assert got.outlier_detection == irc.OutlierDetection(
        consecutive_5xx=7, split_external_local_origin_errors=True, consecutive_local_origin_failures=3,
        min_health_percent=20)


def test_traffic_distribution_forces_failover_priority_without_a_rule() -> None:
    service = ServiceModel("Service", "apps", "web", ("web.apps.svc.cluster.local",), (), (HTTP,),
                           traffic_distribution="PreferSameZone", traffic_distribution_source="the Service")
    got = cluster_policy(None, HTTP, service).locality
    assert (got.applies, got.forced, got.source) == (True, True, "trafficDistribution PreferSameZone (the Service)")
    assert got.setting is not None and got.setting.failover_priority[-1] == "topology.kubernetes.io/zone"


def test_connection_pool_and_h2_upgrade() -> None:
    got = cluster_policy(rule("""
        connectionPool:
          tcp: {connectTimeout: 2s, tcpKeepalive: {probes: 3, time: 60s}, maxConnectionDuration: 1h}
          http: {http1MaxPendingRequests: 1, http2MaxRequests: 2, maxRetries: 3, maxRequestsPerConnection: 4,
                 idleTimeout: 5s, h2UpgradePolicy: UPGRADE}
    """), HTTP, SERVICE)
    assert got.connection_pool == irc.ConnectionPool(
        connect_timeout_ms=2000, keepalive=irc.TcpKeepalive(3, 60_000, None), max_connection_duration_ms=3_600_000,
        max_pending_requests=1, max_requests=2, max_retries=3, max_requests_per_connection=4, idle_timeout_ms=5000)
    assert got.http2  # an HTTP/1 port, upgraded


def test_tls_is_originated_for_simple_and_mutual_only() -> None:
    mutual = cluster_policy(rule("tls: {mode: MUTUAL, credentialName: web-client, subjectAltNames: [web.internal]}"),
                            HTTP, SERVICE).tls
    # The Secret is the service's namespace's; the SNI the service host unless the rule names one.
    assert mutual == irc.UpstreamTLS("MUTUAL", "web.apps.svc.cluster.local", ("web.internal",),
                                     irc.SecretRef("apps", "web-client"))
    assert mutual.client_certificate == irc.SecretRef("apps", "web-client")
    simple = cluster_policy(rule("tls: {mode: SIMPLE, sni: web.example, insecureSkipVerify: true}"), HTTP, SERVICE).tls
    assert simple == irc.UpstreamTLS("SIMPLE", "web.example", verify=False)
    assert simple.client_certificate is None
    for mode in ("DISABLE", "ISTIO_MUTUAL"):
        assert cluster_policy(rule(f"tls: {{mode: {mode}}}"), HTTP, SERVICE).tls is None


def test_lookups_choose_the_rule_and_record_the_hosts_they_read() -> None:
    recorder = Recorder()
    own = rule("loadBalancer: {simple: RANDOM}")
    elsewhere = rule("loadBalancer: {simple: LEAST_REQUEST}", "other", "web.apps.svc.cluster.local")
    policies = ClusterPolicies([elsewhere, own], recorder)
    with recorder.frame() as reads:
        got = policies.policy("web.apps.svc.cluster.local", "apps", None, HTTP, SERVICE)
    assert got.load_balancer == irc.LoadBalancer("RANDOM")  # the gateway's own namespace first
    assert policies.policy("web.apps.svc.cluster.local", "other", None, HTTP, SERVICE).load_balancer == \
        irc.LoadBalancer("LEAST_REQUEST")
    assert {("dr-host", "web.apps.svc.cluster.local"), ("dr-host", "*.svc.cluster.local"), ("dr-host", "*")} <= reads
