"""Service ports to Envoy Clusters, as the cluster's policy (ir_clusters.ClusterPolicy) decides.

Kubernetes Services and STATIC ServiceEntries are EDS clusters; DNS ServiceEntries are
STRICT_DNS, DNS_ROUND_ROBIN ones LOGICAL_DNS (their endpoints inline), NONE is ORIGINAL_DST.
A MUTUAL client certificate is not inlined in the cluster: the cluster names it and Envoy
fetches it over SDS (`client_certificate` gives the secret that goes with the gateway), so that
no dump of clusters ever carries a private key; so is a Gateway's spec.tls.backend certificate,
named on a BackendTLSPolicy's TLS (UpstreamTLS.presented_certificate, resolved by translation). A BackendTLSPolicy's CA bundles (ConfigMap or
Secret `ca.crt`) are inlined, or the system bundle named by file (`SYSTEM_CA_BUNDLE`); a policy
whose CAs do not all resolve trusts a CA no server chains to (xds/unusable_ca.py). What the
policy says was decided in discovery (discovery/cluster_policy.py); this module only spells it.
"""

from __future__ import annotations

from collections.abc import Callable

from envoy.config.cluster.v3 import circuit_breaker_pb2, cluster_pb2
from envoy.config.core.v3 import base_pb2, protocol_pb2, proxy_protocol_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.extensions.transport_sockets.proxy_protocol.v3 import upstream_proxy_protocol_pb2
from envoy.extensions.transport_sockets.raw_buffer.v3 import raw_buffer_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, secret_pb2, tls_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as hpo
from envoy.type.matcher.v3 import string_pb2

from ..discovery.backend_tls import ConfigMapLookup, resolve_ca
from ..ir import TLSSecret
from ..ir_clusters import (
    ClusterPolicy,
    ConnectionPool,
    DnsSettings,
    Http2Settings,
    LoadBalancer,
    OutlierDetection,
    UpstreamTLS,
)
from ..naming import client_secret_name
from ..resources.core import Secret
from .common import ADS, duration_ms, to_any
from .health_checks import health_check
from .unusable_ca import UNUSABLE_CA_PEM

CONNECT_TIMEOUT_MS = 10_000
_HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_LB_POLICIES = {
    "ROUND_ROBIN": cluster_pb2.Cluster.ROUND_ROBIN,
    "LEAST_REQUEST": cluster_pb2.Cluster.LEAST_REQUEST,
    "RANDOM": cluster_pb2.Cluster.RANDOM,
    "RING_HASH": cluster_pb2.Cluster.RING_HASH,
    "MAGLEV": cluster_pb2.Cluster.MAGLEV,
}
SecretLookup = Callable[[str, str], Secret | None]
# Where the proxies' system CA bundle is (BackendTLSPolicy wellKnownCACertificates: System): the
# Debian/Ubuntu path, which Envoy's images and Envoy Gateway and Istio use.
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _outlier_detection(c: cluster_pb2.Cluster, od: OutlierDetection) -> None:
    """Each error count enforces at 100% when positive; the panic threshold is minHealthPercent."""
    out = c.outlier_detection
    if od.consecutive_5xx is not None:
        out.consecutive_5xx.value = od.consecutive_5xx
        out.enforcing_consecutive_5xx.value = 100 if od.consecutive_5xx > 0 else 0
    if od.consecutive_gateway_errors is not None:
        out.consecutive_gateway_failure.value = od.consecutive_gateway_errors
        out.enforcing_consecutive_gateway_failure.value = 100 if od.consecutive_gateway_errors > 0 else 0
    if od.split_external_local_origin_errors:
        out.split_external_local_origin_errors = True
        if od.consecutive_local_origin_failures is not None:
            out.consecutive_local_origin_failure.value = od.consecutive_local_origin_failures
            out.enforcing_consecutive_local_origin_failure.value = 100
    if od.interval_ms is not None:
        out.interval.CopyFrom(duration_ms(od.interval_ms))
    if od.base_ejection_time_ms is not None:
        out.base_ejection_time.CopyFrom(duration_ms(od.base_ejection_time_ms))
    if od.max_ejection_percent is not None:
        out.max_ejection_percent.value = od.max_ejection_percent
    if od.failure_percentage is not None:
        out.failure_percentage_threshold.value = od.failure_percentage
        out.enforcing_failure_percentage.value = 100
    if od.always_eject_one:
        out.always_eject_one_host.value = True
    # Without this, Envoy spreads over ejected hosts once half are out (panic mode): failover
    # would never happen.
    c.common_lb_config.healthy_panic_threshold.value = float(od.min_health_percent)


def _http2_settings(h2: protocol_pb2.Http2ProtocolOptions, s: Http2Settings) -> None:
    if s.stream_window is not None:
        h2.initial_stream_window_size.value = s.stream_window
    if s.connection_window is not None:
        h2.initial_connection_window_size.value = s.connection_window
    if s.max_streams is not None:
        h2.max_concurrent_streams.value = s.max_streams
    if s.terminate_stream:
        h2.override_stream_error_on_invalid_http_message.value = True


def _connection_pool(c: cluster_pb2.Cluster, cp: ConnectionPool, options: hpo.HttpProtocolOptions) -> None:
    th = circuit_breaker_pb2.CircuitBreakers.Thresholds()
    if cp.max_connections is not None:
        th.max_connections.value = cp.max_connections
    if cp.connect_timeout_ms is not None:
        c.connect_timeout.CopyFrom(duration_ms(cp.connect_timeout_ms))
    ka = cp.keepalive
    if ka is not None:
        k = c.upstream_connection_options.tcp_keepalive
        if ka.probes is not None:
            k.keepalive_probes.value = ka.probes
        if ka.time_ms is not None:
            k.keepalive_time.value = ka.time_ms // 1000
        if ka.interval_ms is not None:
            k.keepalive_interval.value = ka.interval_ms // 1000
    if cp.max_connection_duration_ms is not None:
        options.common_http_protocol_options.max_connection_duration.CopyFrom(
            duration_ms(cp.max_connection_duration_ms))
    if cp.max_pending_requests is not None:
        th.max_pending_requests.value = cp.max_pending_requests
    if cp.max_requests is not None:
        th.max_requests.value = cp.max_requests
    if cp.max_retries is not None:
        th.max_retries.value = cp.max_retries
    if cp.max_requests_per_connection is not None:
        options.common_http_protocol_options.max_requests_per_connection.value = cp.max_requests_per_connection
    if cp.idle_timeout_ms is not None:
        options.common_http_protocol_options.idle_timeout.CopyFrom(duration_ms(cp.idle_timeout_ms))
    if th.ListFields():
        c.circuit_breakers.thresholds.append(th)
    if cp.max_connections_per_endpoint is not None:
        per_host = c.circuit_breakers.per_host_thresholds.add()
        per_host.max_connections.value = cp.max_connections_per_endpoint


def _load_balancer(c: cluster_pb2.Cluster, lb: LoadBalancer) -> None:
    if lb.algorithm:
        c.lb_policy = _LB_POLICIES[lb.algorithm]
    if lb.maglev_table_size is not None:
        c.maglev_lb_config.table_size.value = lb.maglev_table_size
    if lb.minimum_ring_size is not None:
        c.ring_hash_lb_config.minimum_ring_size.value = lb.minimum_ring_size
    if lb.locality_weighted:
        # Weights per locality (distribute) are only honoured with locality-weighted LB.
        c.common_lb_config.locality_weighted_lb_config.SetInParent()
    if lb.slow_start_ms is not None:
        config = (c.least_request_lb_config if c.lb_policy == cluster_pb2.Cluster.LEAST_REQUEST
                  else c.round_robin_lb_config)
        config.slow_start_config.slow_start_window.CopyFrom(duration_ms(lb.slow_start_ms))


def client_certificate(tls: UpstreamTLS, secrets: SecretLookup) -> TLSSecret | None:
    """The certificate Envoy presents upstream (MUTUAL TLS), as an SDS secret; None when the mode
    is not MUTUAL or the credential Secret lacks tls.crt or tls.key."""
    ref = tls.client_certificate
    if ref is None:
        return None
    secret = secrets(ref.namespace, ref.name)
    if secret is None or not secret.data.get("tls.crt") or not secret.data.get("tls.key"):
        return None
    return TLSSecret(client_secret_name(ref.namespace, ref.name), secret.data["tls.crt"], secret.data["tls.key"])


def _policy_trust(tls: UpstreamTLS, secrets: SecretLookup, config_maps: ConfigMapLookup,
                  validation: common_pb2.CertificateValidationContext) -> None:
    """A BackendTLSPolicy's trusted CAs: the system's, else its references' (every one must
    resolve), else one no server chains to."""
    if tls.system_ca:
        validation.trusted_ca.filename = SYSTEM_CA_BUNDLE
        return
    bundle = resolve_ca(tls.ca[0].namespace, tls.ca, secrets, config_maps) if tls.ca else None
    validation.trusted_ca.inline_bytes = bundle.pem if bundle is not None and bundle.usable else UNUSABLE_CA_PEM


def _tls(c: cluster_pb2.Cluster, tls: UpstreamTLS, secrets: SecretLookup, config_maps: ConfigMapLookup) -> None:
    ctx = tls_pb2.UpstreamTlsContext(sni=tls.sni)
    if tls.trust_required:
        _policy_trust(tls, secrets, config_maps, ctx.common_tls_context.validation_context)
    secret = secrets(tls.credential.namespace, tls.credential.name) if tls.credential is not None else None
    if secret is not None:
        ca = secret.data.get("ca.crt")
        if ca and tls.verify:
            ctx.common_tls_context.validation_context.trusted_ca.inline_bytes = ca
    cert = client_certificate(tls, secrets)
    if cert is not None:
        ctx.common_tls_context.tls_certificate_sds_secret_configs.append(
            secret_pb2.SdsSecretConfig(name=cert.name, sds_config=ADS))
    elif tls.presented_certificate:
        # A Gateway's backend client certificate: its proxy gets the secret with the gateway's own.
        ctx.common_tls_context.tls_certificate_sds_secret_configs.append(
            secret_pb2.SdsSecretConfig(name=tls.presented_certificate, sds_config=ADS))
    if tls.alpn:
        ctx.common_tls_context.alpn_protocols.extend(tls.alpn)
    for kind, names in ((common_pb2.SubjectAltNameMatcher.DNS, tls.subject_alt_names),
                        (common_pb2.SubjectAltNameMatcher.URI, tls.uri_subject_alt_names)):
        for san in names:
            ctx.common_tls_context.validation_context.match_typed_subject_alt_names.append(
                common_pb2.SubjectAltNameMatcher(san_type=kind, matcher=string_pb2.StringMatcher(exact=san)))
    c.transport_socket.CopyFrom(base_pb2.TransportSocket(name="envoy.transport_sockets.tls", typed_config=to_any(ctx)))


def stat_name(name: str) -> str:
    """A cluster's name in Envoy's statistics: dots as underscores. Envoy's tag extraction takes
    a cluster's name to end at its first dot, so `outbound|80||web.shop.svc.cluster.local` would
    become the label `outbound|80||web` and the rest part of every metric name."""
    return name.replace(".", "_")


def cluster(
    name: str,
    resolution: str = "",
    policy: ClusterPolicy | None = None,
    inline: endpoint_pb2.ClusterLoadAssignment | None = None,
    secrets: SecretLookup | None = None,
    config_maps: ConfigMapLookup | None = None,
    host: str = "",
) -> cluster_pb2.Cluster:
    """A cluster for a service port whose service has `resolution` (a ServiceEntry's; "" for a
    Service), shaped by `policy`. `inline` is the load assignment of a DNS cluster; `secrets` and
    `config_maps` look up what its TLS reads; `host` is the service's (the authority of its
    health checks)."""
    out = cluster_pb2.Cluster(name=name, connect_timeout=duration_ms(CONNECT_TIMEOUT_MS),
                              lb_policy=cluster_pb2.Cluster.ROUND_ROBIN)
    if "." in name:
        out.alt_stat_name = stat_name(name)
    if resolution in ("", "STATIC"):
        out.type = cluster_pb2.Cluster.EDS
        out.eds_cluster_config.eds_config.CopyFrom(ADS)
    elif resolution in ("DNS", "DNS_ROUND_ROBIN"):
        out.type = cluster_pb2.Cluster.STRICT_DNS if resolution == "DNS" else cluster_pb2.Cluster.LOGICAL_DNS
        out.dns_lookup_family = cluster_pb2.Cluster.V4_ONLY
        if inline is not None:
            out.load_assignment.CopyFrom(inline)
    else:  # NONE: to wherever the connection was going
        out.type = cluster_pb2.Cluster.ORIGINAL_DST
        out.lb_policy = cluster_pb2.Cluster.CLUSTER_PROVIDED
    options = hpo.HttpProtocolOptions()
    if policy is not None:
        if policy.load_balancer is not None:
            _load_balancer(out, policy.load_balancer)
        if policy.outlier_detection is not None:
            _outlier_detection(out, policy.outlier_detection)
        if policy.connection_pool is not None:
            _connection_pool(out, policy.connection_pool, options)
        if policy.tls is not None:
            _tls(out, policy.tls, secrets or (lambda ns, n: None), config_maps or (lambda ns, n: None))
        if policy.health_check is not None and out.type != cluster_pb2.Cluster.ORIGINAL_DST:
            out.health_checks.append(health_check(policy.health_check, host or name))
        if policy.panic_threshold is not None:
            out.common_lb_config.healthy_panic_threshold.value = float(policy.panic_threshold)
    if out.type != cluster_pb2.Cluster.ORIGINAL_DST and not out.common_lb_config.HasField("healthy_panic_threshold"):
        # Endpoints are sent with their health (not-ready ones UNHEALTHY): Envoy's default panic
        # threshold (50%) would spread traffic over them once half are not ready, where kube-proxy
        # sends none. Istio (applyLoadBalancer) turns panic mode off likewise.
        out.common_lb_config.healthy_panic_threshold.SetInParent()
    h2: protocol_pb2.Http2ProtocolOptions | None = None
    if policy is not None and policy.downstream_protocol:
        # The version the client spoke (a BackendTrafficPolicy's useClientProtocol), over the
        # port's: HTTP/2 from an HTTP/2 client (h2c, or h2 over the cluster's TLS).
        options.use_downstream_protocol_config.http_protocol_options.SetInParent()
        h2 = options.use_downstream_protocol_config.http2_protocol_options
    elif policy is not None and policy.http2:
        h2 = options.explicit_http_config.http2_protocol_options
    elif policy is not None and policy.auto_http:
        # HTTP/2 or HTTP/1.1, as the TLS handshake's ALPN settles it (the cluster offers both).
        options.auto_config.http_protocol_options.SetInParent()
        h2 = options.auto_config.http2_protocol_options
    if h2 is not None:
        h2.SetInParent()
        if policy is not None and policy.http2_settings is not None:
            _http2_settings(h2, policy.http2_settings)
    if options.ListFields():
        if not any(options.HasField(f) for f in ("explicit_http_config", "auto_config",
                                                  "use_downstream_protocol_config")):
            options.explicit_http_config.http_protocol_options.CopyFrom(protocol_pb2.Http1ProtocolOptions())
        out.typed_extension_protocol_options[_HTTP_OPTIONS_KEY].CopyFrom(to_any(options))
    if policy is not None and policy.dns is not None and out.type in (cluster_pb2.Cluster.STRICT_DNS,
                                                                       cluster_pb2.Cluster.LOGICAL_DNS):
        _dns(out, policy.dns)
    if policy is not None and policy.proxy_protocol is not None:
        _proxy_protocol(out, policy.proxy_protocol)
    return out


def _dns(c: cluster_pb2.Cluster, dns: DnsSettings) -> None:
    if dns.refresh_ms is not None:
        c.dns_refresh_rate.CopyFrom(duration_ms(dns.refresh_ms))
    if dns.respect_ttl is not None:
        c.respect_dns_ttl = dns.respect_ttl
    if dns.lookup_family is not None:
        c.dns_lookup_family = cluster_pb2.Cluster.DnsLookupFamily.Value(dns.lookup_family)


def _proxy_protocol(c: cluster_pb2.Cluster, version: str) -> None:
    """The PROXY protocol header first on every connection to the endpoints, then what the
    cluster spoke before (its TLS, or plain bytes)."""
    inner = c.transport_socket if c.HasField("transport_socket") else base_pb2.TransportSocket(
        name="envoy.transport_sockets.raw_buffer", typed_config=to_any(raw_buffer_pb2.RawBuffer()))
    wrapped = upstream_proxy_protocol_pb2.ProxyProtocolUpstreamTransport(
        config=proxy_protocol_pb2.ProxyProtocolConfig(version=proxy_protocol_pb2.ProxyProtocolConfig.Version.Value(version)),
        transport_socket=inner)
    c.transport_socket.CopyFrom(base_pb2.TransportSocket(name="envoy.transport_sockets.upstream_proxy_protocol",
                                                         typed_config=to_any(wrapped)))
