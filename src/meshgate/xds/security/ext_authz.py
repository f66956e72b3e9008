"""External authorization (ir_security.ExtAuth) as Envoy's ext_authz filter: one filter per
service (`envoy.filters.http.ext_authz/<name>`), carried disabled by the connection manager and
enabled by the routes it decides for, as Envoy Gateway does."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import config_source_pb2, grpc_service_pb2, http_uri_pb2
from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.type.matcher.v3 import string_pb2
from google.protobuf.message import Message

from ... import ir
from ... import ir_security as sec
from ..common import duration_ms, to_any
from . import enabled

EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz"


def filter_name(auth: sec.ExtAuth) -> str:
    """The filter of one external authorization service."""
    return f"{EXT_AUTHZ_FILTER}/{auth.name}"


def _name(n: str) -> string_pb2.StringMatcher:
    """A header name; a leading or trailing `*` (Istio's providers) a suffix or prefix match."""
    if len(n) > 1 and n.startswith("*"):
        return string_pb2.StringMatcher(suffix=n[1:], ignore_case=True)
    if len(n) > 1 and n.endswith("*"):
        return string_pb2.StringMatcher(prefix=n[:-1], ignore_case=True)
    return string_pb2.StringMatcher(exact=n, ignore_case=True)


def _names(names: Sequence[str]) -> string_pb2.ListStringMatcher:
    return string_pb2.ListStringMatcher(patterns=[_name(n) for n in names])


def ext_authz_config(auth: sec.ExtAuth) -> ext_authz_pb2.ExtAuthz:
    """The filter deciding with one service."""
    cluster = auth.cluster
    out = ext_authz_pb2.ExtAuthz(transport_api_version=config_source_pb2.V3, failure_mode_allow=auth.fail_open)
    if auth.status_on_error is not None:
        out.status_on_error.code = auth.status_on_error
    if auth.body is not None:
        out.with_request_body.CopyFrom(ext_authz_pb2.BufferSettings(
            max_request_bytes=auth.body.max_bytes, allow_partial_message=auth.body.allow_partial,
            pack_as_bytes=auth.body.as_bytes))
    if auth.protocol == "GRPC":
        out.grpc_service.CopyFrom(grpc_service_pb2.GrpcService(
            envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(cluster_name=cluster, authority=auth.authority),
            timeout=duration_ms(auth.timeout_ms)))
    else:
        http = out.http_service
        http.server_uri.CopyFrom(http_uri_pb2.HttpUri(uri=f"http://{auth.authority or cluster}{auth.path}",
                                                      cluster=cluster, timeout=duration_ms(auth.timeout_ms)))
        http.path_prefix = auth.path
        if auth.headers_to_backend:
            http.authorization_response.allowed_upstream_headers.CopyFrom(_names(auth.headers_to_backend))
        if auth.headers_to_client:
            http.authorization_response.allowed_client_headers.CopyFrom(_names(auth.headers_to_client))
        if auth.headers_to_client_on_allow:
            http.authorization_response.allowed_client_headers_on_success.CopyFrom(
                _names(auth.headers_to_client_on_allow))
        for key, value in auth.headers_to_add:
            http.authorization_request.headers_to_add.add(key=key, value=value)
    if auth.headers_to_service:
        out.allowed_headers.CopyFrom(_names(auth.headers_to_service))
    return out


def _auths(routes: Sequence[ir.Route]) -> dict[str, sec.ExtAuth]:
    out: dict[str, sec.ExtAuth] = {}
    for r in routes:
        auth = r.security.ext_auth  # type: ignore[union-attr]
        assert auth is not None
        out.setdefault(filter_name(auth), auth)
    return out


def ext_authz_entries(routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """One disabled filter per service the routes use, in name order."""
    return [hcm.HttpFilter(name=name, typed_config=to_any(ext_authz_config(auth)), disabled=True)
            for name, auth in sorted(_auths(routes).items())]


def ext_authz_per_route(r: ir.Route) -> list[tuple[str, Message]]:
    """A route enables its service's filter."""
    assert r.security is not None and r.security.ext_auth is not None
    return [(filter_name(r.security.ext_auth), enabled(ext_authz_pb2.ExtAuthzPerRoute(
        check_settings=ext_authz_pb2.CheckSettings())))]
