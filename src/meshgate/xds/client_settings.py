"""A chain's client settings (ir.ClientSettings, Envoy Gateway's ClientTrafficPolicy) in Envoy's
terms: on the HTTP connection manager, the TCP proxy, the downstream TLS context, and a connection
limit filter ahead of the chain's other network filters. Envoy Gateway spells them the same way
(internal/xds/translator/listener.go)."""

from __future__ import annotations

from envoy.config.common.mutation_rules.v3 import mutation_rules_pb2
from envoy.config.core.v3 import base_pb2, extension_pb2, protocol_pb2
from envoy.config.listener.v3 import listener_components_pb2 as lc
from envoy.extensions.filters.http.grpc_web.v3 import grpc_web_pb2
from envoy.extensions.filters.http.health_check.v3 import health_check_pb2
from envoy.extensions.filters.network.connection_limit.v3 import connection_limit_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm,
)
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2
from envoy.extensions.http.early_header_mutation.header_mutation.v3 import header_mutation_pb2
from envoy.extensions.http.header_formatters.preserve_case.v3 import preserve_case_pb2
from envoy.extensions.http.original_ip_detection.custom_header.v3 import custom_header_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, tls_pb2
from envoy.type.matcher.v3 import string_pb2
from envoy.type.v3 import http_status_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from .common import to_any

_UNDERSCORES = {
    "ALLOW": protocol_pb2.HttpProtocolOptions.ALLOW,
    "REJECT_REQUEST": protocol_pb2.HttpProtocolOptions.REJECT_REQUEST,
    "DROP_HEADER": protocol_pb2.HttpProtocolOptions.DROP_HEADER,
}


def _ms(field: object, ms: int) -> None:
    field.FromMilliseconds(ms)  # type: ignore[attr-defined]


def _early_mutation(mutation: ir.HeaderMutation) -> extension_pb2.TypedExtensionConfig:
    """Header changes before routing: removed, then set (overwriting), then added (appended)."""
    mutations = [mutation_rules_pb2.HeaderMutation(remove=name) for name in mutation.remove]
    mutations += [mutation_rules_pb2.HeaderMutation(append=base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=k, value=v),
        append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD)) for k, v in mutation.set]
    mutations += [mutation_rules_pb2.HeaderMutation(append=base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=k, value=v),
        append_action=base_pb2.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD)) for k, v in mutation.add]
    return extension_pb2.TypedExtensionConfig(
        name="envoy.http.early_header_mutation.header_mutation",
        typed_config=to_any(header_mutation_pb2.HeaderMutation(mutations=mutations)))


def configure_manager(manager: hcm.HttpConnectionManager, s: ir.ClientSettings) -> None:
    """The connection manager's share of the settings."""
    if s.request_timeout_ms is not None:
        _ms(manager.request_timeout, s.request_timeout_ms)
    if s.idle_timeout_ms is not None:
        _ms(manager.common_http_protocol_options.idle_timeout, s.idle_timeout_ms)
    if s.headers_with_underscores is not None:
        manager.common_http_protocol_options.headers_with_underscores_action = _UNDERSCORES[s.headers_with_underscores]
    if s.preserve_request_id is not None:
        manager.preserve_external_request_id = s.preserve_request_id
    if s.early_headers is not None:
        manager.early_header_mutation_extensions.append(_early_mutation(s.early_headers))
    if s.forward_client_cert is not None:
        manager.forward_client_cert_details = hcm.HttpConnectionManager.ForwardClientCertDetails.Value(
            s.forward_client_cert)
        details = manager.set_current_client_cert_details
        for name in s.client_cert_details:
            if name == "subject":
                details.subject.value = True
            else:
                setattr(details, name, True)
    if s.xff_trusted_hops is not None:
        manager.xff_num_trusted_hops = s.xff_trusted_hops
    if s.custom_ip_header is not None:
        config = custom_header_pb2.CustomHeaderConfig(header_name=s.custom_ip_header)
        if s.custom_ip_reject:
            config.reject_with_status.CopyFrom(http_status_pb2.HttpStatus(code=http_status_pb2.Forbidden))
        manager.original_ip_detection_extensions.append(extension_pb2.TypedExtensionConfig(
            name="envoy.extensions.http.original_ip_detection.custom_header", typed_config=to_any(config)))
        # Envoy refuses use_remote_address together with an original IP detection extension.
        manager.ClearField("use_remote_address")
    if s.http1_preserve_case:
        manager.http_protocol_options.header_key_format.stateful_formatter.CopyFrom(extension_pb2.TypedExtensionConfig(
            name="envoy.http.stateful_header_formatters.preserve_case",
            typed_config=to_any(preserve_case_pb2.PreserveCaseFormatterConfig())))
    if s.http1_trailers:
        manager.http_protocol_options.enable_trailers = True
    if s.http2_stream_window is not None:
        manager.http2_protocol_options.initial_stream_window_size.value = s.http2_stream_window
    if s.http2_max_streams is not None:
        manager.http2_protocol_options.max_concurrent_streams.value = s.http2_max_streams
    if s.escaped_slashes is not None:
        manager.path_with_escaped_slashes_action = hcm.HttpConnectionManager.PathWithEscapedSlashesAction.Value(
            s.escaped_slashes)
    if s.merge_slashes is not None:
        manager.merge_slashes = s.merge_slashes
    if s.scheme_match_backend:
        manager.scheme_header_transformation.match_upstream = True
    if s.grpc_web:
        # Early, as Envoy Gateway places it: the filters after it see gRPC.
        manager.http_filters.insert(0, hcm.HttpFilter(name="envoy.filters.http.grpc_web",
                                                      typed_config=to_any(grpc_web_pb2.GrpcWeb())))
    if s.health_check_path is not None:
        # First, so that a health check never meets authentication, rate limits or the router.
        manager.http_filters.insert(0, health_check_filter(s.health_check_path))


def health_check_filter(path: str) -> hcm.HttpFilter:
    """Envoy answers 200 itself to a request for `path` (not passed on), as Envoy Gateway's
    ClientTrafficPolicy healthCheck does; 503 once the proxy is draining."""
    config = health_check_pb2.HealthCheck(pass_through_mode=wrappers_pb2.BoolValue(value=False))
    config.headers.add(name=":path", string_match=string_pb2.StringMatcher(exact=path))
    return hcm.HttpFilter(name="envoy.filters.http.health_check", typed_config=to_any(config))


def configure_tcp_proxy(proxy: tcp_proxy_pb2.TcpProxy, s: ir.ClientSettings) -> None:
    """The TCP proxy's share: its idle timeout."""
    if s.tcp_idle_timeout_ms is not None:
        _ms(proxy.idle_timeout, s.tcp_idle_timeout_ms)


def configure_tls(tls: tls_pb2.DownstreamTlsContext, s: ir.ClientSettings) -> None:
    """The TLS context's share: protocol versions, cipher suites, curves and ALPN."""
    params = tls.common_tls_context.tls_params
    if s.tls_min is not None:
        params.tls_minimum_protocol_version = common_pb2.TlsParameters.TlsProtocol.Value(s.tls_min)
    if s.tls_max is not None:
        params.tls_maximum_protocol_version = common_pb2.TlsParameters.TlsProtocol.Value(s.tls_max)
    params.cipher_suites.extend(s.ciphers)
    params.ecdh_curves.extend(s.ecdh_curves)
    if s.alpn is not None:
        tls.common_tls_context.ClearField("alpn_protocols")
        tls.common_tls_context.alpn_protocols.extend(s.alpn)


def connection_limit(name: str, limit: int) -> lc.Filter:
    """The connection limit network filter: a connection beyond `limit` open at once is closed."""
    config = connection_limit_pb2.ConnectionLimit(stat_prefix=name)
    config.max_connections.value = limit
    return lc.Filter(name="envoy.filters.network.connection_limit", typed_config=to_any(config))
