"""JWT authentication (ir_security.Jwt) as Envoy's jwt_authn filter: the connection manager's
filter holds every provider its routes use and one requirement per policy (requirement_map,
no rules: by itself it checks nothing); a route names its requirement (PerRouteConfig).
Each provider keeps a verified token's payload in dynamic metadata under its own name, where the
RBAC filter's claim conditions read it (xds/security/rbac.py)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import base_pb2, http_uri_pb2
from envoy.extensions.filters.http.jwt_authn.v3 import config_pb2 as jwt_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from google.protobuf import empty_pb2

from ... import ir
from ... import ir_security as sec
from ..clusters import SYSTEM_CA_BUNDLE
from ..collectors import collector_cluster
from ..common import duration_ms, to_any

JWT_FILTER = "envoy.filters.http.jwt_authn"
JWKS_TIMEOUT_MS = 5000


def jwks_cluster_name(uri: str) -> str:
    """The cluster a remote JWKS is fetched through: one per scheme, host and port."""
    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"jwks|{parts.scheme}|{parts.hostname}|{port}"


def _provider(p: sec.JwtProvider) -> jwt_pb2.JwtProvider:
    out = jwt_pb2.JwtProvider(issuer=p.issuer, audiences=list(p.audiences), payload_in_metadata=p.name,
                              forward=True)
    # Scopes are one space-delimited string: a list in metadata, for authorization's scope rules.
    out.normalize_payload_in_metadata.space_delimited_claims.append("scope")
    if p.local_jwks is not None:
        out.local_jwks.CopyFrom(base_pb2.DataSource(inline_string=p.local_jwks))
    elif p.remote_jwks is not None:
        out.remote_jwks.http_uri.CopyFrom(http_uri_pb2.HttpUri(
            uri=p.remote_jwks, cluster=p.jwks_cluster or jwks_cluster_name(p.remote_jwks),
            timeout=duration_ms(JWKS_TIMEOUT_MS)))
        if p.jwks_cache_s is not None:
            out.remote_jwks.cache_duration.seconds = p.jwks_cache_s
    for h in p.headers:
        out.from_headers.add(name=h.name, value_prefix=h.prefix)
    out.from_params.extend(p.params)
    out.from_cookies.extend(p.cookies)
    for header, claim in p.claim_to_headers:
        out.claim_to_headers.add(header_name=header, claim_name=claim)
    return out


def _requirement(j: sec.Jwt) -> jwt_pb2.JwtRequirement:
    names = [jwt_pb2.JwtRequirement(provider_name=p.name) for p in j.providers]
    if j.optional:
        names.append(jwt_pb2.JwtRequirement(allow_missing=empty_pb2.Empty()))
    if len(names) == 1:
        return names[0]
    return jwt_pb2.JwtRequirement(requires_any=jwt_pb2.JwtRequirementOrList(requirements=names))


def jwt_entries(routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """The connection manager's jwt_authn filter for the routes that require tokens."""
    config = jwt_pb2.JwtAuthentication()
    for r in routes:
        j = r.security.jwt  # type: ignore[union-attr]
        assert j is not None
        for p in j.providers:
            if p.name not in config.providers:
                config.providers[p.name].CopyFrom(_provider(p))
        if j.name not in config.requirement_map:
            config.requirement_map[j.name].CopyFrom(_requirement(j))
    return [hcm.HttpFilter(name=JWT_FILTER, typed_config=to_any(config))]


def jwt_per_route(r: ir.Route) -> jwt_pb2.PerRouteConfig:
    """A route's requirement, by name."""
    assert r.security is not None and r.security.jwt is not None
    return jwt_pb2.PerRouteConfig(requirement_name=r.security.jwt.name)


def remote_jwks(cfg: ir.GatewayConfig) -> dict[str, str]:
    """The remote JWKS URIs a gateway's routes use, by cluster name (the first URI of each)."""
    out: dict[str, str] = {}
    for rc in cfg.route_configs:
        for vh in rc.virtual_hosts:
            for r in vh.routes:
                j = r.security.jwt if r.security is not None else None
                for p in j.providers if j is not None else ():
                    if p.remote_jwks is not None:
                        out.setdefault(p.jwks_cluster or jwks_cluster_name(p.remote_jwks), p.remote_jwks)
    return out


def jwks_clusters(cfg: ir.GatewayConfig) -> list[cluster_pb2.Cluster]:
    """The clusters remote key sets are fetched through: one per scheme, host and port, STATIC
    for an IP address, STRICT_DNS for a name; TLS (with the host as SNI) for https, verified
    against the system's CAs."""
    out = []
    for name, uri in sorted(remote_jwks(cfg).items()):
        parts = urlsplit(uri)
        host = parts.hostname or ""
        https = parts.scheme == "https"
        c = collector_cluster(name, host, parts.port or (443 if https else 80), grpc=False)
        if https:
            ctx = tls_pb2.UpstreamTlsContext(sni=host)
            ctx.common_tls_context.validation_context.trusted_ca.filename = SYSTEM_CA_BUNDLE
            c.transport_socket.name = "envoy.transport_sockets.tls"
            c.transport_socket.typed_config.CopyFrom(to_any(ctx))
        out.append(c)
    return out
