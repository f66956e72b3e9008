"""A BackendTrafficPolicy's connection settings on a cluster (xds/clusters.py): DNS resolution
applies to DNS-resolved clusters only, and the PROXY protocol wraps whatever the cluster spoke
(plain bytes, or its TLS)."""

from __future__ import annotations

from envoy.extensions.transport_sockets.proxy_protocol.v3 import upstream_proxy_protocol_pb2

from meshgate.ir_clusters import ClusterPolicy, DnsSettings, UpstreamTLS
from meshgate.xds.clusters import cluster

DNS = DnsSettings(refresh_ms=30_000, respect_ttl=True, lookup_family="V6_ONLY")


def test_dns_settings_apply_to_dns_clusters_only() -> None:
    resolved = cluster("outbound|80||ext.example.com", "DNS", ClusterPolicy(dns=DNS))
    assert (resolved.dns_refresh_rate.seconds, resolved.respect_dns_ttl) == (30, True)
    assert resolved.dns_lookup_family == resolved.V6_ONLY
    discovered = cluster("outbound|80||svc.ns.svc.cluster.local", "", ClusterPolicy(dns=DNS))
    assert not discovered.HasField("dns_refresh_rate") and not discovered.respect_dns_ttl
    # Without the policy, meshgate's own default for DNS clusters: IPv4 only.
    assert cluster("outbound|80||ext.example.com", "DNS").dns_lookup_family == resolved.V4_ONLY


def _wrapped(c: object) -> upstream_proxy_protocol_pb2.ProxyProtocolUpstreamTransport:
    socket = c.transport_socket  # type: ignore[attr-defined]
    assert socket.name == "envoy.transport_sockets.upstream_proxy_protocol"
    out = upstream_proxy_protocol_pb2.ProxyProtocolUpstreamTransport()
    socket.typed_config.Unpack(out)
    return out


def test_the_proxy_protocol_wraps_plain_bytes_or_the_clusters_tls() -> None:
    plain = _wrapped(cluster("outbound|80||svc.ns.svc.cluster.local", "", ClusterPolicy(proxy_protocol="V2")))
    assert plain.config.version == plain.config.V2
    assert plain.transport_socket.name == "envoy.transport_sockets.raw_buffer"
    tls = _wrapped(cluster("outbound|443||svc.ns.svc.cluster.local", "", ClusterPolicy(
        proxy_protocol="V1", tls=UpstreamTLS(mode="SIMPLE", sni="svc.example.com"))))
    assert tls.config.version == tls.config.V1
    assert tls.transport_socket.name == "envoy.transport_sockets.tls"
