"""A SecurityPolicy's effect on the routes it reaches: their CORS policy and their request
security (ir_security.Security).

What the policy names is resolved here: the basic auth and API key Secrets, a JWKS ConfigMap, the
external authorization Service (its port's cluster, sent to by the ext_authz filter), each in the
policy's namespace or, in another, with a ReferenceGrant from SecurityPolicy. A reference that
does not resolve makes the policy invalid (Accepted False, reason Invalid, naming it) and its
routes fail closed, as Envoy Gateway's do: they answer 500 instead of being left open.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ... import ir
from ... import ir_security as sec
from ...discovery.index import Discovery
from ...resources.envoy_gateway import GROUP
from ...resources.envoy_gateway import security_policy as sp
from ...store import Store
from ..backends import service_cluster
from ..references import reference_permitted
from .route_context import RouteContext

API_VERSION = "gateway.envoyproxy.io/v1alpha1"
FAIL_CLOSED_STATUS = 500


@dataclass(frozen=True, slots=True)
class SecurityEffect:
    """What one policy does to a route, in IR terms; `invalid`: why its routes fail closed."""

    cors: ir.Cors | None = None
    security: sec.Security | None = None
    clusters: tuple[ir.ClusterRef, ...] = ()
    invalid: str | None = None
    csrf: ir.Csrf | None = None


class _Unresolved(Exception):
    pass


class _Resolver:
    def __init__(self, policy: sp.SecurityPolicy, store: Store, discovery: Discovery | None) -> None:
        self.policy = policy
        self.store = store
        self.discovery = discovery

    def _object(self, ref: sp.ObjectRef, group: str = "") -> object:
        ns = ref.namespace or self.policy.meta.namespace
        described = f"{ref.kind} {ns}/{ref.name}"
        if not reference_permitted(self.store, GROUP, sp.KIND, self.policy.meta.namespace, group, ref.kind, ns,
                                   ref.name):
            raise _Unresolved(f"{described} ({ref.where}) is in another namespace and no ReferenceGrant "
                              "allows the reference")
        obj = self.store.get(ref.kind, ns, ref.name)
        if obj is None:
            raise _Unresolved(f"{described} ({ref.where}) does not exist")
        return obj

    def data(self, ref: sp.ObjectRef, key: str) -> bytes:
        obj = self._object(ref)
        data: dict[str, bytes] = obj.data  # type: ignore[attr-defined]
        if key not in data:
            ns = ref.namespace or self.policy.meta.namespace
            raise _Unresolved(f"{ref.kind} {ns}/{ref.name} ({ref.where}) has no key {key}")
        return data[key]

    def secret_data(self, ref: sp.ObjectRef) -> dict[str, bytes]:
        data: dict[str, bytes] = self._object(ref).data  # type: ignore[attr-defined]
        return data

    def service(self, ref: sp.ObjectRef) -> ir.ClusterRef:
        ns = ref.namespace or self.policy.meta.namespace
        self._object(ref)
        model = self.discovery.service(ns, ref.name) if self.discovery is not None else None
        if model is None or ref.port is None or model.port(ref.port) is None:
            raise _Unresolved(f"Service {ns}/{ref.name} ({ref.where}) has no port {ref.port}")
        return service_cluster(model, ref.port)


def _origin(origin: str) -> ir.ValueMatch:
    if origin == "*":
        return ir.ValueMatch("", ".*", regex=True)
    if "*" in origin:
        return ir.ValueMatch("", ".*".join(re.escape(part) for part in origin.split("*")), regex=True)
    return ir.ValueMatch("", origin)


def _cors(c: sp.Cors) -> ir.Cors:
    return ir.Cors(tuple(_origin(o) for o in c.origins), c.methods, c.headers, c.expose_headers,
                   c.max_age_s if c.max_age_s is not None else 5, c.credentials)


def _path(kind: str, value: str) -> sec.StringMatch:
    if kind == "Exact":
        return sec.StringMatch("exact", value)
    if kind == "RegularExpression":
        return sec.StringMatch("regex", value)
    if value.rstrip("/") == "":
        return sec.StringMatch("prefix", "/")
    return sec.StringMatch("regex", re.escape(value.rstrip("/")) + "(/.*)?")  # path-segment aware


def provider_name(policy: sp.SecurityPolicy, provider: str) -> str:
    """A JWT provider's name in Envoy, unique per gateway (policies may reuse provider names)."""
    return f"{policy.meta.namespace}/{policy.meta.name}/{provider}"


def _authorization(policy: sp.SecurityPolicy, a: sp.Authorization, owner: ir.SourceRef) -> sec.Authorization:
    rules = []
    for r in a.rules:
        principals: tuple[sec.Principal, ...] = ()
        if r.client_cidrs or r.jwt_provider is not None or r.headers:
            claims: list[sec.ClaimCondition] = []
            if r.jwt_provider is not None:
                name = provider_name(policy, r.jwt_provider)
                claims.extend(sec.ClaimCondition(name, tuple(c.name.split(".")), c.values, c.list_value)
                              for c in r.claims)
                claims.extend(sec.ClaimCondition(name, ("scope",), (s,), list_value=True) for s in r.scopes)
            principals = (sec.Principal(
                source_cidrs=r.client_cidrs, claims=tuple(claims),
                headers=tuple(sec.HeaderCondition(n, tuple(sec.StringMatch("exact", v) for v in vs))
                              for n, vs in r.headers)),)
        permissions: tuple[sec.Permission, ...] = ()
        if r.methods or r.path is not None:
            permissions = (sec.Permission(paths=(_path(*r.path),) if r.path is not None else (), methods=r.methods),)
        rules.append(sec.AuthorizationRule(r.name, r.action.upper(), principals, permissions))
    return sec.Authorization(tuple(rules), a.default_action.upper(), owner)


def _jwt(policy: sp.SecurityPolicy, j: sp.Jwt, resolve: _Resolver) -> sec.Jwt:
    providers = []
    for p in j.providers:
        local = p.local_inline
        if p.local_ref is not None:
            local = resolve.data(p.local_ref, "jwks").decode()
        providers.append(sec.JwtProvider(
            provider_name(policy, p.name), p.issuer, p.audiences, local, p.remote_uri if local is None else None,
            None, p.cache_s, tuple(sec.JwtHeader(n, prefix) for n, prefix in p.headers), p.params, p.cookies,
            p.claim_to_headers))
    return sec.Jwt(f"{policy.meta.namespace}/{policy.meta.name}", tuple(providers), j.optional)


def _api_key(a: sp.ApiKeyAuth, resolve: _Resolver) -> sec.ApiKeyAuth:
    clients: dict[str, str] = {}
    for ref in a.credentials:
        for client, key in sorted(resolve.secret_data(ref).items()):
            clients.setdefault(client, key.decode(errors="replace").strip())
    sources = tuple(sec.ApiKeySource(**{"header" if k == "header" else "query" if k == "param" else "cookie": n})
                    for k, n in a.sources)
    return sec.ApiKeyAuth(tuple(sorted(clients.items())), sources, a.forward_client_id_header, a.sanitize)


def security_effect(policy: sp.SecurityPolicy, store: Store, discovery: Discovery | None) -> SecurityEffect:
    """The IR of a policy, its references resolved (made once per translation)."""
    owner = ir.SourceRef(sp.KIND, API_VERSION, policy.meta.namespace, policy.meta.name)
    resolve = _Resolver(policy, store, discovery)
    cors = _cors(policy.cors) if policy.cors is not None else None
    csrf = ir.Csrf(policy.csrf.origins, policy.csrf.shadow_percent) if policy.csrf is not None else None
    clusters: tuple[ir.ClusterRef, ...] = ()
    try:
        basic = None
        if policy.basic_auth is not None:
            basic = sec.BasicAuth(resolve.data(policy.basic_auth.users, ".htpasswd"),
                                  policy.basic_auth.forward_username_header,
                                  f"{policy.meta.namespace}/{policy.meta.name}")
        api_key = _api_key(policy.api_key, resolve) if policy.api_key is not None else None
        jwt = _jwt(policy, policy.jwt, resolve) if policy.jwt is not None else None
        ext = None
        if policy.ext_auth is not None:
            e = policy.ext_auth
            ref = resolve.service(e.backend)
            clusters = (ref,)
            ext = sec.ExtAuth(f"{policy.meta.namespace}/{policy.meta.name}", e.protocol, ref.name,
                              f"{ref.host}:{ref.port}", e.path, e.headers_to_ext_auth, e.headers_to_backend,
                              e.fail_open, e.timeout_ms)
    except _Unresolved as why:
        return SecurityEffect(cors, invalid=str(why), csrf=csrf)
    authorization = (_authorization(policy, policy.authorization, owner)
                     if policy.authorization is not None else None)
    security = None
    if any(x is not None for x in (basic, api_key, jwt, ext, authorization)):
        security = sec.Security(ext, api_key, basic, jwt, authorization)
    return SecurityEffect(cors, security, clusters, csrf=csrf)


def apply_security(route: ir.Route, effect: SecurityEffect, refs: Mapping[str, ir.ClusterRef],
                   variant: Callable[[ir.ClusterRef, object], ir.ClusterRef], where: RouteContext) -> ir.Route:
    """`route` with a policy's `effect`: its security, and its CORS policy unless the route has
    its own (an HTTPRoute's CORS filter is the more specific); fail closed when invalid."""
    if effect.invalid is not None:
        return dataclasses.replace(route, backends=(), redirect=None, direct_status=FAIL_CLOSED_STATUS,
                                   rewrite=None, mirrors=(), retry=None, session=None, security=None)
    changes: dict = {}
    if effect.cors is not None and route.cors is None:
        changes["cors"] = effect.cors
    if effect.security is not None:
        changes["security"] = effect.security
    if effect.csrf is not None:
        changes["csrf"] = effect.csrf
    return dataclasses.replace(route, **changes) if changes else route
