"""Istio's security kinds (security.istio.io v1/v1beta1): AuthorizationPolicy and
RequestAuthentication, with the checks Istio's validation makes when it admits them
(pkg/config/validation: ValidateAuthorizationPolicy, ValidateRequestAuthentication).

Where they apply and what Envoy config they become is the translation's business
(gateway/policies/istio_*.py): this module only reads them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..fields import Fields
from ..meta import Meta, Source
from .readers import _selector_labels

SECURITY_GROUP = "security.istio.io"
ACTIONS = ("ALLOW", "DENY", "AUDIT", "CUSTOM")
# The `when` keys Istio knows (request.headers[...] and request.auth.claims[...] take a name).
_WHEN_KEYS = ("source.ip", "remote.ip", "source.namespace", "source.principal", "request.auth.principal",
              "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port",
              "connection.sni")
_WHEN_PREFIXES = ("request.headers[", "request.auth.claims[", "experimental.envoy.filters.")
_TARGET_KINDS = ("Gateway", "Service", "ServiceEntry", "GatewayClass")


@dataclass(frozen=True, slots=True)
class PolicyTarget:
    """A targetRef: a Gateway, Service, ServiceEntry or GatewayClass (namespace: the policy's)."""

    group: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class SourceMatch:
    """`from.source`: each field a list (any of them), `not_*` none of them."""

    principals: tuple[str, ...] = ()
    not_principals: tuple[str, ...] = ()
    request_principals: tuple[str, ...] = ()
    not_request_principals: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    not_namespaces: tuple[str, ...] = ()
    ip_blocks: tuple[str, ...] = ()
    not_ip_blocks: tuple[str, ...] = ()
    remote_ip_blocks: tuple[str, ...] = ()
    not_remote_ip_blocks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """`to.operation`: hosts, ports, methods, paths (and their `not_` forms)."""

    hosts: tuple[str, ...] = ()
    not_hosts: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    not_ports: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    not_methods: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    not_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    """A `when` condition: the key's value is one of `values` and none of `not_values`."""

    key: str
    values: tuple[str, ...] = ()
    not_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule matches when one of its sources, one of its operations and all its conditions do
    (an empty list matches anything)."""

    sources: tuple[SourceMatch, ...] = ()
    operations: tuple[Operation, ...] = ()
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy:
    """An AuthorizationPolicy: where (selector or targetRefs), what action, which rules."""

    meta: Meta
    source: Source
    selector: tuple[tuple[str, str], ...] | None
    targets: tuple[PolicyTarget, ...]
    action: str
    provider: str
    rules: tuple[Rule, ...]
    kind = "AuthorizationPolicy"


@dataclass(frozen=True, slots=True)
class JwtRule:
    """A RequestAuthentication jwtRule."""

    issuer: str
    audiences: tuple[str, ...] = ()
    jwks_uri: str = ""
    jwks: str = ""
    from_headers: tuple[tuple[str, str], ...] = ()  # (name, prefix)
    from_params: tuple[str, ...] = ()
    from_cookies: tuple[str, ...] = ()
    forward_original_token: bool = False
    output_payload_to_header: str = ""
    output_claim_to_headers: tuple[tuple[str, str], ...] = ()  # (header, claim)


@dataclass(frozen=True, slots=True)
class RequestAuthentication:
    """A RequestAuthentication: where, and the JWTs it validates."""

    meta: Meta
    source: Source
    selector: tuple[tuple[str, str], ...] | None
    targets: tuple[PolicyTarget, ...]
    jwt_rules: tuple[JwtRule, ...]
    kind = "RequestAuthentication"


def _strs(f: Fields, key: str) -> tuple[str, ...]:
    return tuple(f.strs(key) or ())


def _cidrs(f: Fields, key: str) -> tuple[str, ...]:
    out = []
    for value in _strs(f, key):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            f.error(key, f"invalid IP address or CIDR {value!r}")
            continue
        out.append(value)
    return tuple(out)


def _paths(f: Fields, key: str) -> tuple[str, ...]:
    out = []
    for value in _strs(f, key):
        if "{" in value or "}" in value:
            f.error(key, f"invalid path {value!r}: path templates are not supported by meshgate")
        elif not (value.startswith(("/", "*")) or value.endswith("*")):
            f.error(key, f"invalid path {value!r}: must start with / or use a * prefix or suffix")
        else:
            out.append(value)
    return tuple(out)


def _ports(f: Fields, key: str) -> tuple[str, ...]:
    out = []
    for value in _strs(f, key):
        if not value.isdigit() or not 0 < int(value) < 65536:
            f.error(key, f"invalid port {value!r}: must be a number from 1 to 65535")
        else:
            out.append(value)
    return tuple(out)


def _targets(spec: Fields) -> tuple[PolicyTarget, ...]:
    refs: list[PolicyTarget] = []
    single = spec.map("targetRef")
    for tf in [*([single] if single is not None else []), *spec.maps("targetRefs")]:
        group = tf.str("group") or ""
        kind = tf.str("kind", required=True, enum=_TARGET_KINDS)
        name = tf.str("name", required=True, min_len=1)
        if tf.has("namespace") and tf.str("namespace") != spec.ctx.namespace:
            tf.error("namespace", "cross namespace referencing is not currently supported")
            continue
        if kind is not None and name is not None:
            refs.append(PolicyTarget(group, kind, name))
    if spec.has("targetRef") and spec.has("targetRefs"):
        spec.error("targetRef", "only one of targetRef or targetRefs can be set")
    return tuple(refs)


def _where(spec: Fields) -> tuple[tuple[tuple[str, str], ...] | None, tuple[PolicyTarget, ...]]:
    targets = _targets(spec)
    selector = None
    if spec.has("selector"):
        sel = spec.map("selector")
        labels = _selector_labels(sel, "matchLabels", "empty selector matches every workload") if sel else {}
        selector = tuple(sorted(labels.items()))
        if targets:
            spec.error("selector", "only one of targetRefs or workloadSelector can be set")
    return selector, targets


def _rule(rf: Fields) -> Rule:
    sources = []
    for ff in rf.maps("from"):
        sf = ff.map("source")
        if sf is None or not sf.data:
            ff.error("source", "`from.source` must not be empty")
            continue
        sources.append(SourceMatch(
            _strs(sf, "principals"), _strs(sf, "notPrincipals"), _strs(sf, "requestPrincipals"),
            _strs(sf, "notRequestPrincipals"), _strs(sf, "namespaces"), _strs(sf, "notNamespaces"),
            _cidrs(sf, "ipBlocks"), _cidrs(sf, "notIpBlocks"), _cidrs(sf, "remoteIpBlocks"),
            _cidrs(sf, "notRemoteIpBlocks")))
    operations = []
    for tf in rf.maps("to"):
        of = tf.map("operation")
        if of is None or not of.data:
            tf.error("operation", "`to.operation` must not be empty")
            continue
        operations.append(Operation(
            _strs(of, "hosts"), _strs(of, "notHosts"), _ports(of, "ports"), _ports(of, "notPorts"),
            _strs(of, "methods"), _strs(of, "notMethods"), _paths(of, "paths"), _paths(of, "notPaths")))
    conditions = []
    for wf in rf.maps("when"):
        key = wf.str("key", required=True, min_len=1)
        values, not_values = _strs(wf, "values"), _strs(wf, "notValues")
        if key is None:
            continue
        if key not in _WHEN_KEYS and not (key.startswith(_WHEN_PREFIXES) and (
                key.startswith("experimental.") or key.endswith("]"))):
            wf.error("key", f"unknown attribute: {key}")
            continue
        if not values and not not_values:
            wf.error(None, "at least one of values or notValues must be set")
            continue
        if key in ("source.ip", "remote.ip", "destination.ip"):
            for v in values + not_values:
                try:
                    ipaddress.ip_network(v, strict=False)
                except ValueError:
                    wf.error("values", f"invalid IP address or CIDR {v!r}")
        conditions.append(Condition(key, values, not_values))
    return Rule(tuple(sources), tuple(operations), tuple(conditions))


def parse_authorization_policy(f: Fields, meta: Meta, source: Source) -> AuthorizationPolicy:
    """AuthorizationPolicy.spec (an empty spec is an ALLOW policy with no rule: it denies all)."""
    spec = f.map("spec")
    if spec is None:
        return AuthorizationPolicy(meta, source, None, (), "ALLOW", "", ())
    selector, targets = _where(spec)
    action = spec.str("action", enum=ACTIONS) or "ALLOW"
    provider = ""
    pf = spec.map("provider")
    if pf is not None:
        provider = pf.str("name", required=True, min_len=1) or ""
    if action == "CUSTOM" and pf is None:
        spec.error("provider", "must specify a provider for CUSTOM action")
    elif action != "CUSTOM" and pf is not None:
        spec.error("provider", f"provider must not be set for {action} action")
    if action == "AUDIT":
        spec.error("action", "AUDIT is not supported by meshgate: the policy is ignored", severity="warning")
    rules = tuple(_rule(rf) for rf in spec.maps("rules"))
    if action == "DENY" and not spec.has("rules"):
        spec.error("rules", "DENY action without rules never matches: the policy has no effect", severity="warning")
    return AuthorizationPolicy(meta, source, selector, targets, action, provider, rules)


def parse_request_authentication(f: Fields, meta: Meta, source: Source) -> RequestAuthentication:
    """RequestAuthentication.spec."""
    spec = f.map("spec")
    if spec is None:
        return RequestAuthentication(meta, source, None, (), ())
    selector, targets = _where(spec)
    rules: list[JwtRule] = []
    issuers: set[str] = set()
    for jf in spec.maps("jwtRules"):
        issuer = jf.str("issuer", required=True, min_len=1)
        uri = jf.str("jwksUri") or ""
        jwks = jf.str("jwks") or ""
        if uri and not uri.startswith(("http://", "https://")):
            jf.error("jwksUri", f"invalid jwksUri {uri!r}: must be an http or https URL")
        if uri and jwks:
            jf.error("jwks", "only one of jwks or jwksUri can be set")
        if not uri and not jwks:
            jf.error("jwksUri", "jwks or jwksUri is required (meshgate does not discover them from the issuer)")
        headers = []
        for hf in jf.maps("fromHeaders"):
            name = hf.str("name", required=True, min_len=1)
            if name:
                headers.append((name, hf.str("prefix") or ""))
        claims = []
        for cf in jf.maps("outputClaimToHeaders"):
            header, claim = cf.str("header", required=True, min_len=1), cf.str("claim", required=True, min_len=1)
            if header and claim:
                claims.append((header, claim))
        if issuer is None:
            continue
        if issuer in issuers:
            jf.error("issuer", f"duplicate issuer {issuer!r}")
        issuers.add(issuer)
        rules.append(JwtRule(issuer, _strs(jf, "audiences"), uri, jwks, tuple(headers), _strs(jf, "fromParams"),
                             _strs(jf, "fromCookies"), bool(jf.bool("forwardOriginalToken")),
                             jf.str("outputPayloadToHeader") or "", tuple(claims)))
    return RequestAuthentication(meta, source, selector, targets, tuple(rules))
