"""Istio's AuthorizationPolicy and RequestAuthentication as a route's request security
(ir_security.Security), for the ingress Gateways and waypoints that enforce them
(istio_attachment.py).

- RequestAuthentication: each jwtRule a JWT provider named by its issuer (Istio's request
  principal is `iss/sub`); a token is optional (a request without one passes, one with an
  invalid token gets 401), as Istio does.
- AuthorizationPolicy, in Istio's order: CUSTOM, then DENY (any rule matching denies), then ALLOW
  (when any ALLOW policy applies, a request must match one of their rules; an ALLOW policy without
  rules denies everything). As ordered first-match rules: every DENY rule, then every ALLOW rule,
  the default DENY when an ALLOW policy applies, else ALLOW.
- CUSTOM: the requests matching a CUSTOM rule are decided by the policy's provider, an external
  authorizer of Istio's mesh config (resources/istio/mesh_config.py: the ConfigMap
  istio-system/istio), through the cluster of the provider's Service port
  (ir_security.CustomAuthorization); the other requests never reach it. As Istio requires, one
  gateway (workload) has one CUSTOM provider: with several, or a provider that is not in the mesh
  config, is invalid, or whose Service (port) does not exist, the CUSTOM rules deny what they
  match (fail closed, as Istio's do) and a warning names the provider.
- A rule matches when one of its `from` sources, one of its `to` operations and every `when`
  condition do. Peer identities (`principals`, `namespaces`, `source.principal`,
  `source.namespace`) need Istio's mutual TLS between workloads, which meshgate's proxies do not
  have: no request carries them, so a source or condition asking for one never matches (the
  `not` forms always do), as Istio treats plaintext requests. Conditions meshgate cannot spell
  (`destination.ip`, `connection.sni`, `experimental.*`) make an ALLOW rule never match and a
  DENY rule always match: closed either way.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ... import ir
from ... import ir_security as sec
from ...discovery.index import Discovery
from ...discovery.model import ServiceModel
from ...resources.errors import InputError
from ...resources.gateway_api import Gateway
from ...resources.istio.mesh_config import (
    MESH_CONFIG_MAP,
    NO_MESH_CONFIG,
    ROOT_NAMESPACE,
    ExtAuthzProvider,
    MeshConfig,
    parse_mesh_config,
)
from ...resources.istio.security import (
    AuthorizationPolicy,
    Condition,
    Operation,
    RequestAuthentication,
    Rule,
    SourceMatch,
)
from ...store import Store
from ..backends import service_cluster
from .istio_attachment import Enforced, enforced
from .memo import PolicyMemo

API_VERSION = "security.istio.io/v1"


@dataclass(slots=True)
class _Never:
    """A part of a rule that no request can satisfy."""


NEVER = _Never()


def _wild(value: str, ignore_case: bool = False) -> sec.StringMatch:
    """Istio's string match: `*` alone any value, a leading `*` a suffix, a trailing one a prefix."""
    if value == "*":
        return sec.StringMatch("present")
    if value.startswith("*"):
        return sec.StringMatch("suffix", value[1:], ignore_case)
    if value.endswith("*"):
        return sec.StringMatch("prefix", value[:-1], ignore_case)
    return sec.StringMatch("exact", value, ignore_case)


def request_principals(patterns: Iterable[str], issuers: tuple[str, ...]) -> tuple[str, ...]:
    """Istio's request principal patterns (`iss/sub`, `*` at either end of the whole) as
    `issuer/subject-pattern` for the route's known issuers: the issuer part is matched here, where
    the issuers are known, the subject part by the RBAC filter."""
    out: list[str] = []
    for p in patterns:
        if p == "*":
            out.extend(f"{i}/*" for i in issuers)
        elif p.startswith("*"):
            tail = p[1:]
            if "/" in tail:
                iss_tail, sub = tail.rsplit("/", 1)
                out.extend(f"{i}/{sub}" for i in issuers if i.endswith(iss_tail))
            else:
                out.extend(f"{i}/*{tail}" for i in issuers)
        elif p.endswith("*"):
            head = p[:-1]
            for i in issuers:
                if (i + "/").startswith(head):
                    out.append(f"{i}/*")
                elif head.startswith(i + "/"):
                    out.append(f"{i}/{head[len(i) + 1:]}*")
        elif "/" in p and p.rpartition("/")[0] in issuers:
            out.append(p)
    return tuple(dict.fromkeys(out))


def _source(s: SourceMatch, issuers: tuple[str, ...]) -> sec.Principal | _Never:
    if s.principals or s.namespaces:
        return NEVER  # a peer identity: no request has one
    principals = request_principals(s.request_principals, issuers)
    if s.request_principals and not principals:
        return NEVER  # no token this route accepts can carry one
    return sec.Principal(source_cidrs=s.remote_ip_blocks, not_source_cidrs=s.not_remote_ip_blocks,
                         direct_cidrs=s.ip_blocks, not_direct_cidrs=s.not_ip_blocks,
                         request_principals=principals)


def _operation(o: Operation) -> sec.Permission:
    return sec.Permission(
        paths=tuple(_wild(p) for p in o.paths), not_paths=tuple(_wild(p) for p in o.not_paths),
        methods=o.methods, not_methods=o.not_methods,
        hosts=tuple(_wild(h, True) for h in o.hosts), not_hosts=tuple(_wild(h, True) for h in o.not_hosts),
        ports=tuple(int(p) for p in o.ports), not_ports=tuple(int(p) for p in o.not_ports))


def _claim_principals(path: tuple[str, ...], values: tuple[str, ...], issuers: tuple[str, ...]) -> sec.Principal:
    """A claim of a token from any of the issuers: one alternative per issuer."""
    return sec.Principal(any_of=tuple(sec.Principal(claims=(sec.ClaimCondition(i, path, values, True),))
                                      for i in issuers))


@dataclass(slots=True)
class _When:
    """A rule's `when` conditions, split by side: each an alternative list that must hold."""

    principals: list[sec.Principal] = field(default_factory=list)
    permissions: list[sec.Permission] = field(default_factory=list)
    impossible: bool = False
    unsupported: bool = False


def _when(conditions: Iterable[Condition], issuers: tuple[str, ...]) -> _When:
    out = _When()
    for c in conditions:
        key = c.key
        if key.startswith("request.headers["):
            name = key[len("request.headers["):-1]
            if c.values:
                out.principals.append(sec.Principal(headers=(sec.HeaderCondition(name, tuple(map(_wild, c.values))),)))
            if c.not_values:
                out.principals.append(sec.Principal(headers=(
                    sec.HeaderCondition(name, tuple(map(_wild, c.not_values)), invert=True),)))
        elif key in ("source.ip", "remote.ip"):
            direct = key == "source.ip"
            if c.values:
                out.principals.append(sec.Principal(direct_cidrs=c.values) if direct
                                      else sec.Principal(source_cidrs=c.values))
            if c.not_values:
                out.principals.append(sec.Principal(not_direct_cidrs=c.not_values) if direct
                                      else sec.Principal(not_source_cidrs=c.not_values))
        elif key == "request.auth.principal":
            if c.values:
                principals = request_principals(c.values, issuers)
                if principals:
                    out.principals.append(sec.Principal(request_principals=principals))
                else:
                    out.impossible = True
            if c.not_values:
                out.unsupported = True
        elif key.startswith("request.auth.claims[") or key in ("request.auth.audiences", "request.auth.presenter"):
            path = {"request.auth.audiences": ("aud",), "request.auth.presenter": ("azp",)}.get(
                key, tuple(key[len("request.auth.claims["):-1].split("][")))
            if not issuers:
                out.impossible = out.impossible or bool(c.values)
                continue
            if c.values:
                out.principals.append(_claim_principals(path, c.values, issuers))
            if c.not_values:
                out.unsupported = True
        elif key == "destination.port":
            if c.values:
                out.permissions.append(sec.Permission(ports=tuple(int(v) for v in c.values)))
            if c.not_values:
                out.permissions.append(sec.Permission(not_ports=tuple(int(v) for v in c.not_values)))
        elif key in ("source.namespace", "source.principal"):
            if c.values:
                out.impossible = True  # a peer identity: no request has one
        else:
            out.unsupported = True
    return out


def _rule(name: str, action: str, rule: Rule, issuers: tuple[str, ...]) -> sec.AuthorizationRule | None:
    """One Istio rule as an ordered rule; None when no request can match it."""
    when = _when(rule.conditions, issuers)
    if when.unsupported:
        # Closed: an ALLOW never grants on what meshgate cannot check, a DENY always denies.
        return None if action == "ALLOW" else sec.AuthorizationRule(name, action)
    if when.impossible:
        return None
    sources = [_source(s, issuers) for s in rule.sources]
    principals = [p for p in sources if isinstance(p, sec.Principal)]
    if rule.sources and not principals:
        return None  # every source asks for a peer identity
    permissions = [_operation(o) for o in rule.operations]
    if when.principals:
        principals = [sec.Principal(all_of=(p, *when.principals)) for p in principals or [sec.Principal()]]
    if when.permissions:
        permissions = [sec.Permission(all_of=(p, *when.permissions)) for p in permissions or [sec.Permission()]]
    return sec.AuthorizationRule(name, action, tuple(principals), tuple(permissions))


EXT_AUTHZ_PREFIX = "istio-ext-authz"  # Istio's: the CUSTOM rules' names start with it (and the provider)


def custom_prefix(provider: str) -> str:
    """What the names of a provider's CUSTOM rules start with (Istio's)."""
    return f"{EXT_AUTHZ_PREFIX}-{provider}"


def custom_rule_name(p: AuthorizationPolicy, i: int) -> str:
    """A CUSTOM rule's name, Istio's: the provider's prefix, namespace, policy and rule index."""
    return f"{custom_prefix(p.provider)}-ns[{p.meta.namespace}]-policy[{p.meta.name}]-rule[{i}]"


def authorization(policies: Iterable[AuthorizationPolicy], issuers: tuple[str, ...],
                  provider: sec.ExtAuth | None = None) -> sec.Authorization | None:
    """The Istio policies a route is under, as ordered rules; None when there is none. CUSTOM
    policies are left to `provider` when given (custom_authorization); without one their rules
    deny what they match (fail closed)."""
    deny: list[sec.AuthorizationRule] = []
    allow: list[sec.AuthorizationRule] = []
    any_allow = False
    seen = False
    for p in sorted(policies, key=lambda p: (p.meta.namespace, p.meta.name)):
        if p.action == "AUDIT" or (p.action == "CUSTOM" and provider is not None):
            continue
        seen = True
        base = f"{p.meta.namespace}/{p.meta.name}"
        action = "ALLOW" if p.action == "ALLOW" else "DENY"
        any_allow = any_allow or p.action == "ALLOW"
        for i, rule in enumerate(p.rules):
            made = _rule(f"{base}/{i}", action, rule, issuers)
            if made is not None:
                (allow if action == "ALLOW" else deny).append(made)
    if not seen:
        return None
    return sec.Authorization(tuple(deny + allow), "DENY" if any_allow else "ALLOW")


def custom_authorization(policies: Iterable[AuthorizationPolicy], issuers: tuple[str, ...],
                         provider: sec.ExtAuth, name: str) -> sec.CustomAuthorization | None:
    """The CUSTOM policies (of provider `name`) a route is under: the requests matching one of
    their rules go to `provider`; None when no request can match one. A rule with a condition
    meshgate cannot check matches every request (the authorizer decides more, never less)."""
    rules: list[sec.AuthorizationRule] = []
    for p in sorted(policies, key=lambda p: (p.meta.namespace, p.meta.name)):
        if p.action != "CUSTOM" or p.provider != name:
            continue
        for i, rule in enumerate(p.rules):
            made = _rule(custom_rule_name(p, i), "DENY", rule, issuers)
            if made is not None:
                rules.append(made)
    if not rules:
        return None
    return sec.CustomAuthorization(provider, tuple(rules), custom_prefix(name))


def jwt(authns: Iterable[RequestAuthentication]) -> sec.Jwt | None:
    """The tokens a route's RequestAuthentications accept (optional: Istio lets a request
    without a token through authentication, for its AuthorizationPolicies to decide)."""
    providers: dict[str, sec.JwtProvider] = {}
    for ra in sorted(authns, key=lambda r: (r.meta.namespace, r.meta.name)):
        for rule in ra.jwt_rules:
            if rule.issuer in providers:
                continue
            headers = tuple(sec.JwtHeader(n, p) for n, p in rule.from_headers)
            providers[rule.issuer] = sec.JwtProvider(
                rule.issuer, rule.issuer, rule.audiences, rule.jwks or None, rule.jwks_uri or None,
                headers=headers, params=rule.from_params, cookies=rule.from_cookies,
                claim_to_headers=rule.output_claim_to_headers)
    if not providers:
        return None
    return sec.Jwt("istio", tuple(providers[k] for k in sorted(providers)), optional=True)


def istio_security(authz: Iterable[AuthorizationPolicy], authns: Iterable[RequestAuthentication],
                   provider: tuple[str, sec.ExtAuth] | None = None) -> sec.Security | None:
    """A route's Istio request security; `provider`: the CUSTOM provider (name, its external
    authorization) when its policies can go to it, else CUSTOM rules deny what they match."""
    authz = list(authz)
    token = jwt(authns)
    issuers = tuple(p.name for p in token.providers) if token is not None else ()
    auth = authorization(authz, issuers, provider[1] if provider is not None else None)
    custom = custom_authorization(authz, issuers, provider[1], provider[0]) if provider is not None else None
    if token is None and auth is None and custom is None:
        return None
    return sec.Security(jwt=token, authorization=auth, custom=custom)


_FAIL_CLOSED = object()  # a memo key part: the CUSTOM rules deny (whatever the reason)
_SVC_HOST = re.compile(r"([^./]+)\.([^./]+)\.svc\.cluster\.local")


@dataclass(frozen=True, slots=True)
class _Provider:
    """A CUSTOM provider as resolved for one translation: its external authorization and the
    cluster it is reached through, or why it cannot decide; `key`: the objects it was made from
    (the same while they are, so that what was made with it can be kept)."""

    ext: sec.ExtAuth | None
    cluster: ir.ClusterRef | None
    why: str | None
    key: tuple


def _failed(why: str) -> _Provider:
    return _Provider(None, None, why, (_FAIL_CLOSED,))


class IstioSecurity:
    """Istio's security policies of one version of the store, applied gateway by gateway: every
    route of an ingress Gateway gets the request security of the policies it enforces; a
    waypoint's routes, those of the policies on the waypoint and on their service. The mesh
    config's problems are among `problems` whether a policy names its providers or not."""

    def __init__(self, store: Store, memo: PolicyMemo, discovery: Discovery | None = None) -> None:
        self._authz: list[AuthorizationPolicy] = store.list("AuthorizationPolicy")
        self._authn: list[RequestAuthentication] = store.list("RequestAuthentication")
        self._memo = memo
        self._discovery = discovery
        cm = store.get("ConfigMap", ROOT_NAMESPACE, MESH_CONFIG_MAP)
        self._cm = cm
        self.mesh: MeshConfig = memo.combined((cm,), lambda: parse_mesh_config(cm)) if cm is not None \
            else NO_MESH_CONFIG
        self.problems: list[InputError] = list(self.mesh.errors)
        self._providers: dict[str, _Provider] = {}
        self._custom_warned: set[tuple[str, str, str]] = set()

    def __bool__(self) -> bool:
        return bool(self._authz or self._authn)

    def apply(self, gateway: Gateway, configs: tuple[ir.RouteConfig, ...] | list[ir.RouteConfig],
              labels: dict[str, str], waypoint: bool) -> tuple[list[ir.RouteConfig], tuple[ir.ClusterRef, ...]]:
        """`configs` with the request security of the Istio policies `gateway` enforces, and the
        clusters that security sends to (a CUSTOM provider's)."""
        ns, name = gateway.meta.namespace, gateway.meta.name
        authz = enforced(self._authz, ns, name, gateway.class_name, labels, waypoint)
        authn = enforced(self._authn, ns, name, gateway.class_name, labels, waypoint)
        if not authz and not authn:
            return list(configs), ()
        provider = self._gateway_provider(ns, name, authz)
        sends = False
        out: list[ir.RouteConfig] = []
        for rc in configs:
            hosts = []
            changed = False
            for vh in rc.virtual_hosts:
                service = next(((s.kind, s.namespace, s.name) for s in vh.sources
                                if s.kind in ("Service", "ServiceEntry")), None) if waypoint else None
                policies = tuple(authz.for_service(service))
                tokens = tuple(authn.for_service(service))
                if not policies and not tokens:
                    hosts.append(vh)
                    continue
                security = self._security(policies, tokens, provider)
                if security is None:
                    hosts.append(vh)
                    continue
                sends = sends or security.custom is not None
                routes = tuple(self._route(r, security) for r in vh.routes)
                hosts.append(ir.VirtualHost(vh.name, vh.domains, routes, vh.sources))
                changed = True
            out.append(ir.RouteConfig(rc.name, tuple(hosts)) if changed else rc)
        clusters = (provider[1].cluster,) if sends and provider is not None and provider[1].cluster else ()
        return out, clusters

    def _security(self, policies: tuple[AuthorizationPolicy, ...], tokens: tuple[RequestAuthentication, ...],
                  provider: tuple[str, _Provider] | None) -> sec.Security | None:
        """The request security of these policies (the same object while they, and the CUSTOM
        provider as resolved, are the same)."""
        if provider is None or not any(p.action == "CUSTOM" for p in policies):
            made: sec.Security | None = self._memo.combined(policies + tokens,
                                                            lambda: istio_security(policies, tokens))
            return made
        name, resolved = provider
        ext = (name, resolved.ext) if resolved.ext is not None else None
        made = self._memo.combined(policies + tokens + resolved.key, lambda: istio_security(policies, tokens, ext))
        return made

    def _route(self, route: ir.Route, security: sec.Security) -> ir.Route:
        """`route` under `security` (the same object while both are)."""
        out: ir.Route = self._memo.route(route, security, lambda: _with(route, security))[0]
        return out

    def _gateway_provider(self, ns: str, name: str, authz: Enforced) -> tuple[str, _Provider] | None:
        """The CUSTOM provider of a gateway's policies (None: no CUSTOM policy). One gateway has
        one, as Istio requires of a workload: with several, every CUSTOM rule denies."""
        customs = [p for p in itertools.chain(authz.everywhere, *authz.by_service.values()) if p.action == "CUSTOM"]
        if not customs:
            return None
        names = sorted({p.provider for p in customs})
        if len(names) > 1:
            resolved = _failed(f"gateway {ns}/{name} enforces CUSTOM policies of several providers "
                               f"({', '.join(names)}), and Istio allows one per workload")
        else:
            resolved = self._provider(names[0])
        if resolved.why is not None:
            for p in customs:
                key = (p.meta.namespace, p.meta.name, resolved.why)
                if key not in self._custom_warned:
                    self._custom_warned.add(key)
                    self.problems.append(InputError(
                        p.source.file, p.source.line,
                        f"CUSTOM action: {resolved.why}; its rules deny the requests they match (fail closed)",
                        "spec.provider", p.kind, p.meta.namespace, p.meta.name, severity="warning"))
        return names[0], resolved

    def _provider(self, name: str) -> _Provider:
        """Provider `name` of the mesh config, resolved (once per translation)."""
        found = self._providers.get(name)
        if found is None:
            found = self._providers[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> _Provider:
        why = self.mesh.why_not(name)
        if why is not None:
            return _failed(why)
        p = self.mesh.providers[name]
        model, why = self._service(p)
        if model is None:
            return _failed(f"extension provider {name!r}: {why}")
        if model.port(p.port) is None:
            return _failed(f"extension provider {name!r}: {model.kind} {model.namespace}/{model.name} "
                           f"has no port {p.port}")
        ref = service_cluster(model, p.port)
        body = (sec.ExtAuthBody(p.body.max_request_bytes, p.body.allow_partial_message, p.body.pack_as_bytes)
                if p.body is not None else None)
        ext = sec.ExtAuth(f"istio:{name}", p.protocol, ref.name, ref.host, p.path_prefix, p.headers_to_service,
                          p.headers_to_upstream, p.fail_open, p.timeout_ms, p.status_on_error,
                          p.headers_to_client_on_deny, p.headers_to_client_on_allow, p.headers_to_add, body)
        return _Provider(ext, ref, None, (self._cm, model))

    def _service(self, p: ExtAuthzProvider) -> tuple[ServiceModel | None, str]:
        """The Service or ServiceEntry of a provider's `service` (`[<namespace>/]<host>`), as
        Istio looks it up: a host of the service registry, in the namespace named if one is."""
        ns, _, host = p.service.rpartition("/")
        if self._discovery is None:
            return None, "no service discovery to find its service in"
        m = _SVC_HOST.fullmatch(host)
        if m is not None and ns in ("", m[2]):
            model = self._discovery.service(m[2], m[1])
            if model is not None:
                return model, ""
        entries = [x for x in self._discovery.host_models(host) if ns in ("", x.namespace)]
        namespaces = sorted({x.namespace for x in entries})
        if len(namespaces) > 1:
            return None, (f"service {p.service!r} is a host in several namespaces ({', '.join(namespaces)}): "
                          "name one as <namespace>/<host>")
        if entries:
            return entries[0], ""
        return None, f"service {p.service!r} is not a host of any Service or ServiceEntry"


def _with(route: ir.Route, security: sec.Security) -> tuple[ir.Route, tuple[ir.ClusterRef, ...]]:
    """`route` under Istio's request security. A route an Envoy Gateway SecurityPolicy already
    secures keeps its authentication; Istio's authorization replaces the policy's (one RBAC
    decision per route)."""
    own = route.security
    if own is None:
        return dataclasses.replace(route, security=security), ()
    merged = dataclasses.replace(own, jwt=own.jwt or security.jwt,
                                 authorization=security.authorization or own.authorization, custom=security.custom)
    return dataclasses.replace(route, security=merged), ()
