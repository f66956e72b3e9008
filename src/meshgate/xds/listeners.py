"""IR listeners to Envoy Listener: one per port, HTTP connection managers fed by RDS, TCP proxies
(TLS and TCP listeners, waypoints' TCP ports) and UDP proxies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from envoy.config.core.v3 import (
    address_pb2,
    base_pb2,
    protocol_pb2,
)
from envoy.config.listener.v3 import listener_components_pb2 as lc
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.listener.proxy_protocol.v3 import proxy_protocol_pb2
from envoy.extensions.filters.listener.tls_inspector.v3 import tls_inspector_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm,
)
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2
from envoy.extensions.filters.udp.udp_proxy.v3 import route_pb2 as udp_route_pb2
from envoy.extensions.filters.udp.udp_proxy.v3 import udp_proxy_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, secret_pb2, tls_pb2
from google.protobuf import wrappers_pb2
from google.protobuf.message import Message
from xds.core.v3 import extension_pb2
from xds.type.matcher.v3 import matcher_pb2

from .. import ir
from .client_settings import configure_manager, configure_tcp_proxy, configure_tls, connection_limit
from .common import ADS, to_any
from .metadata import set_metadata
from .scopes import scoped_routes
from .telemetry import DEFAULT as DEFAULT_TELEMETRY
from .telemetry import ConnectionTelemetry

_ROUTER = hcm.HttpFilter(name="envoy.filters.http.router", typed_config=to_any(router_pb2.Router()))
_PROXY_PROTOCOL = lc.ListenerFilter(name="envoy.filters.listener.proxy_protocol",
                                    typed_config=to_any(proxy_protocol_pb2.ProxyProtocol()))
_OPTIONAL_PROXY_PROTOCOL = lc.ListenerFilter(
    name="envoy.filters.listener.proxy_protocol",
    typed_config=to_any(proxy_protocol_pb2.ProxyProtocol(allow_requests_without_proxy_protocol=True)))
_TLS_INSPECTOR = lc.ListenerFilter(name="envoy.filters.listener.tls_inspector",
                                   typed_config=to_any(tls_inspector_pb2.TlsInspector()))




def connection_manager(stat_prefix: str, route_config: str, filters: Sequence[hcm.HttpFilter] = (),
                       scoped: bool = False, telemetry: ConnectionTelemetry = DEFAULT_TELEMETRY
                       ) -> hcm.HttpConnectionManager:
    """The HTTP connection manager of a Gateway listener, its routes by RDS (`scoped`: one scope
    per hostname, xds/scopes.py); with the optional HTTP filters `filters` (the CORS
    filter, the stateful session filter..., xds/http_filters.http_filter_entries) that some of
    those routes need; `telemetry`: the
    gateway's tracing and access loggers (xds/telemetry.py)."""
    out = hcm.HttpConnectionManager(
        access_log=telemetry.access_logs,
        stat_prefix=stat_prefix,
        codec_type=hcm.HttpConnectionManager.AUTO,
        rds=hcm.Rds(config_source=ADS, route_config_name=route_config),
        http_filters=[*filters, _ROUTER],
        use_remote_address=wrappers_pb2.BoolValue(value=True),
        normalize_path=wrappers_pb2.BoolValue(value=True),
        merge_slashes=False,
        path_with_escaped_slashes_action=hcm.HttpConnectionManager.KEEP_UNCHANGED,
        upgrade_configs=[hcm.HttpConnectionManager.UpgradeConfig(upgrade_type="websocket")],
        common_http_protocol_options=protocol_pb2.HttpProtocolOptions(),
    )
    if scoped:
        out.scoped_routes.CopyFrom(scoped_routes(route_config))  # replaces rds (a oneof)
    if telemetry.tracing is not None:
        out.tracing.CopyFrom(telemetry.tracing)
    return out


# The cluster of a stream route's backend that did not resolve: no such cluster exists, so Envoy
# closes the connections sent there (the route's status says why).
NO_BACKEND = "meshgate.no-backend"


def _tcp_proxy(name: str, backends: tuple[ir.WeightedBackend, ...]) -> tcp_proxy_pb2.TcpProxy:
    """A TCP proxy to a stream route's weighted backends."""
    proxy = tcp_proxy_pb2.TcpProxy(stat_prefix=name)
    if len(backends) == 1:
        proxy.cluster = backends[0].cluster or NO_BACKEND
    elif not backends:
        proxy.cluster = NO_BACKEND
    else:
        proxy.weighted_clusters.clusters.extend(
            tcp_proxy_pb2.TcpProxy.WeightedCluster.ClusterWeight(name=b.cluster or NO_BACKEND, weight=b.weight)
            for b in backends)
    return proxy


def _udp_proxy(chain: ir.FilterChain) -> lc.ListenerFilter:
    """A UDP proxy sending every datagram to the route's cluster: its one resolved backend's, or
    the weighted cluster its backends make together (Envoy's UDP proxy routes to one cluster;
    gateway/stream_listeners.py). A session per client address and port: each new one is
    balanced afresh."""
    backends = chain.tcp_backends or ()
    cluster = next((b.cluster for b in backends if b.cluster), NO_BACKEND)
    action = matcher_pb2.Matcher.OnMatch(action=_typed_extension("route", udp_route_pb2.Route(cluster=cluster)))
    proxy = udp_proxy_pb2.UdpProxyConfig(stat_prefix=chain.name, matcher=matcher_pb2.Matcher(on_no_match=action))
    return lc.ListenerFilter(name="envoy.filters.udp_listener.udp_proxy", typed_config=to_any(proxy))


def _typed_extension(name: str, msg: Message) -> extension_pb2.TypedExtensionConfig:
    # The matcher's action is the xds (cncf) TypedExtensionConfig, not Envoy's.
    return extension_pb2.TypedExtensionConfig(name=name, typed_config=to_any(msg))


def _host_range(ip: str) -> address_pb2.CidrRange:
    """One address as a CIDR range (/32, or /128 for IPv6)."""
    return address_pb2.CidrRange(address_prefix=ip, prefix_len=wrappers_pb2.UInt32Value(value=128 if ":" in ip else 32))


def _chain(listener: ir.Listener, chain: ir.FilterChain, needed: Mapping[str, Sequence[hcm.HttpFilter]],
           scoped: frozenset[str], telemetry: ConnectionTelemetry = DEFAULT_TELEMETRY) -> lc.FilterChain:
    if chain.tcp_cluster is not None or chain.tcp_backends is not None:
        backends = chain.tcp_backends if chain.tcp_backends is not None else (ir.WeightedBackend(chain.tcp_cluster, 1),)
        proxy = _tcp_proxy(chain.name, backends)
        if chain.client is not None:
            configure_tcp_proxy(proxy, chain.client)
        network = lc.Filter(name="envoy.filters.network.tcp_proxy", typed_config=to_any(proxy))
    else:
        manager = connection_manager(f"{listener.protocol.lower()}.{listener.port}", chain.route_config,
                                     needed.get(chain.route_config, ()), chain.route_config in scoped,
                                     telemetry)
        if chain.client is not None:
            configure_manager(manager, chain.client)
        network = lc.Filter(name="envoy.filters.network.http_connection_manager", typed_config=to_any(manager))
    out = lc.FilterChain(name=chain.name, filters=[network])
    if chain.client is not None and chain.client.connection_limit is not None:
        out.filters.insert(0, connection_limit(f"{listener.protocol.lower()}.{listener.port}.{chain.name}",
                                               chain.client.connection_limit))
    # The chain's Gateway listeners, and the ClientTrafficPolicy that shaped it.
    set_metadata(out, (*chain.sources, chain.client.source if chain.client is not None else None))
    if chain.server_names:
        out.filter_chain_match.server_names.extend(chain.server_names)
    for ip in chain.destination_ips:
        out.filter_chain_match.prefix_ranges.append(_host_range(ip))
    if chain.destination_port is not None:
        out.filter_chain_match.destination_port.value = chain.destination_port
    for ip in chain.source_ips:
        out.filter_chain_match.source_prefix_ranges.append(_host_range(ip))
    if listener.protocol == "HTTPS" or chain.secrets:
        tls = tls_pb2.DownstreamTlsContext(
            common_tls_context=tls_pb2.CommonTlsContext(
                tls_certificate_sds_secret_configs=[secret_pb2.SdsSecretConfig(name=s, sds_config=ADS) for s in chain.secrets],
                alpn_protocols=["h2", "http/1.1"] if listener.protocol == "HTTPS" else [],
            )
        )
        if chain.client_validation is not None:
            _validate_clients(tls, chain.client_validation)
        if chain.client is not None:
            configure_tls(tls, chain.client)
        out.transport_socket.CopyFrom(base_pb2.TransportSocket(name="envoy.transport_sockets.tls", typed_config=to_any(tls)))
    return out


def _validate_clients(tls: tls_pb2.DownstreamTlsContext, validation: ir.ClientValidation) -> None:
    """Ask for a client certificate, checked against the CA bundle (inline: a CA is no secret).
    AllowValidOnly: no handshake without a valid one. AllowInsecureFallback: one is asked for,
    and any (or none) is let in; the backend is left to judge it."""
    context = tls.common_tls_context.validation_context
    context.trusted_ca.inline_bytes = validation.ca
    if validation.insecure_fallback:
        context.trust_chain_verification = common_pb2.CertificateValidationContext.ACCEPT_UNTRUSTED
    elif not validation.optional:
        tls.require_client_certificate.value = True


def listener(lst: ir.Listener, needed: Mapping[str, Sequence[hcm.HttpFilter]] | None = None,
             scoped: frozenset[str] = frozenset(), telemetry: ConnectionTelemetry = DEFAULT_TELEMETRY
             ) -> listener_pb2.Listener:
    """One Envoy listener for all Gateway listeners on a port (`needed`: the optional HTTP filters
    each route configuration's routes need, xds/http_filters.http_filter_entries; `scoped`: the route
    configurations served as scopes per hostname; `telemetry`: the gateway's, xds/telemetry.py)."""
    if lst.protocol == "UDP":
        return _udp_listener(lst)
    out = listener_pb2.Listener(
        name=lst.name,
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address=lst.address, port_value=lst.port)),
        filter_chains=[_chain(lst, c, needed or {}, scoped, telemetry) for c in lst.filter_chains],
        # Without SO_REUSEPORT a port another process holds (another Gateway's Envoy, another
        # program) is a bind error Envoy reports back as a NACK, which status shows; with it, two
        # Envoys would both bind and silently split the connections.
        enable_reuse_port=wrappers_pb2.BoolValue(value=False),
    )
    set_metadata(out, (s for c in lst.filter_chains for s in c.sources))
    if lst.protocol == "MESH" and not lst.proxy_protocol:
        # Bound directly on a service VIP, which need not be a local address of this host.
        out.freebind.value = True
    if lst.proxy_protocol:
        # ztunnel hands connections over with a PROXY v2 header naming the original destination;
        # a ClientTrafficPolicy's proxyProtocol, a load balancer the client's address.
        out.listener_filters.append(_PROXY_PROTOCOL if not lst.proxy_protocol_optional else _OPTIONAL_PROXY_PROTOCOL)
    if lst.buffer_limit_bytes is not None:
        out.per_connection_buffer_limit_bytes.value = lst.buffer_limit_bytes
    if lst.protocol in ("HTTPS", "TLS"):
        out.listener_filters.append(_TLS_INSPECTOR)
    return out


def _udp_listener(lst: ir.Listener) -> listener_pb2.Listener:
    """A UDP listener: no filter chains, a UDP proxy listener filter (one route per port)."""
    socket = address_pb2.SocketAddress(address=lst.address, port_value=lst.port, protocol=address_pb2.SocketAddress.UDP)
    out = listener_pb2.Listener(name=lst.name, address=address_pb2.Address(socket_address=socket),
                                listener_filters=[_udp_proxy(lst.filter_chains[0])])
    out.udp_listener_config.SetInParent()
    set_metadata(out, (s for c in lst.filter_chains for s in c.sources))
    return out
