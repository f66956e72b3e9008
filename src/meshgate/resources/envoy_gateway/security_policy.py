"""Envoy Gateway's SecurityPolicy: who may reach the routes it attaches to and how they prove it.
CORS, basic auth (an htpasswd Secret), API keys (Secrets of client ids and keys), JWT (providers
with local or remote key sets), external authorization (an HTTP or gRPC Service), and
authorization rules (client addresses, JWT claims and scopes, headers; methods and paths).

What the policy names (Secrets, ConfigMaps, Services) is read here as references; resolving them
is the translation's business (gateway/policies/security.py), which fails closed when they do
not resolve. Fields of Envoy Gateway's API meshgate does not implement are warned about and
ignored; fields it does not define are errors (the strict check against its CRD's schema).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import PolicyTargets, check_fields, duration_ms, parse_targets

KIND = "SecurityPolicy"
_UNSUPPORTED_SPEC = ("mergeType", "oidc")


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A Secret, ConfigMap or Service the policy names (`namespace` None: the policy's);
    `port` for a Service; `where`: the field, for status messages."""

    kind: str
    name: str
    namespace: str | None = None
    port: int | None = None
    group: str = ""
    where: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Cors:
    """cors (max age in seconds)."""

    origins: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_s: int | None = None
    credentials: bool = False


@dataclass(frozen=True, slots=True)
class Csrf:
    """csrf: the origins (host[:port]) allowed besides the request's own, and the share of
    requests checked without being refused (shadowFraction, in percent; None: enforced)."""

    origins: tuple[str, ...] = ()
    shadow_percent: float | None = None


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """basicAuth: the Secret whose `.htpasswd` holds the users."""

    users: ObjectRef
    forward_username_header: str = ""


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    """apiKeyAuth: Secrets of client id → key, and where keys are read ((kind, name) pairs:
    header, param or cookie)."""

    credentials: tuple[ObjectRef, ...]
    sources: tuple[tuple[str, str], ...]
    forward_client_id_header: str = ""
    sanitize: bool = False


@dataclass(frozen=True, slots=True)
class JwtProvider:
    """jwt.providers[]: a key set inline, in a ConfigMap (`jwks` key) or at a URI."""

    name: str
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    remote_uri: str | None = None
    cache_s: int | None = None
    local_inline: str | None = None
    local_ref: ObjectRef | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, value prefix)
    params: tuple[str, ...] = ()
    cookies: tuple[str, ...] = ()
    claim_to_headers: tuple[tuple[str, str], ...] = ()  # (header, claim)


@dataclass(frozen=True, slots=True)
class Jwt:
    """jwt."""

    providers: tuple[JwtProvider, ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ExtAuth:
    """extAuth: one Service port deciding each request over HTTP or gRPC."""

    protocol: str
    backend: ObjectRef
    path: str = ""
    headers_to_backend: tuple[str, ...] = ()
    headers_to_ext_auth: tuple[str, ...] = ()
    fail_open: bool = False
    timeout_ms: int = 10_000


@dataclass(frozen=True, slots=True)
class Claim:
    """authorization.rules[].principal.jwt.claims[]."""

    name: str
    values: tuple[str, ...]
    list_value: bool = False


@dataclass(frozen=True, slots=True)
class AuthorizationRule:
    """authorization.rules[]: `action` (Allow, Deny) when every condition given holds."""

    name: str
    action: str
    client_cidrs: tuple[str, ...] = ()
    jwt_provider: str | None = None
    claims: tuple[Claim, ...] = ()
    scopes: tuple[str, ...] = ()
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    methods: tuple[str, ...] = ()
    path: tuple[str, str] | None = None  # (Exact | PathPrefix | RegularExpression, value)


@dataclass(frozen=True, slots=True)
class Authorization:
    """authorization."""

    default_action: str
    rules: tuple[AuthorizationRule, ...] = ()


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """One SecurityPolicy, read (None: the policy does not say)."""

    meta: Meta
    source: Source
    targets: PolicyTargets
    cors: Cors | None = None
    basic_auth: BasicAuth | None = None
    api_key: ApiKeyAuth | None = None
    jwt: Jwt | None = None
    ext_auth: ExtAuth | None = None
    authorization: Authorization | None = None
    csrf: Csrf | None = None
    kind = KIND


def _secret_ref(f: Fields, where: str) -> ObjectRef | None:
    check_fields(f, ("group", "kind", "name", "namespace"))
    group = f.str("group") or ""
    kind = f.str("kind") or "Secret"
    name = f.str("name", required=True, min_len=1, max_len=253)
    ns = f.str("namespace", min_len=1, max_len=63)
    if group != "" or kind != "Secret":
        f.error("kind", f"must name a core Secret, not {group + '/' if group else ''}{kind}")
        return None
    if name is None:
        return None
    return ObjectRef("Secret", name, ns, where=where)


def _cors(cf: Fields) -> Cors:
    check_fields(cf, ("allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"))
    origins = []
    for o in cf.strs("allowOrigins") or []:
        if o != "*" and "://" not in o:
            cf.error("allowOrigins", f"invalid origin {o!r}: must be * or scheme://host[:port]")
        else:
            origins.append(o)
    max_age = duration_ms(cf, "maxAge")
    return Cors(tuple(origins), tuple(cf.strs("allowMethods") or ()), tuple(cf.strs("allowHeaders") or ()),
                tuple(cf.strs("exposeHeaders") or ()), max_age // 1000 if max_age is not None else None,
                bool(cf.bool("allowCredentials")))


def _basic_auth(bf: Fields) -> BasicAuth | None:
    check_fields(bf, ("users", "forwardUsernameHeader"))
    uf = bf.map("users", required=True)
    ref = _secret_ref(uf, "spec.basicAuth.users") if uf is not None else None
    header = bf.str("forwardUsernameHeader", check=formats.header_name) or ""
    return BasicAuth(ref, header) if ref is not None else None


def _api_key(af: Fields) -> ApiKeyAuth | None:
    check_fields(af, ("credentialRefs", "extractFrom", "forwardClientIDHeader", "sanitize"))
    refs = [r for i, rf in enumerate(af.maps("credentialRefs", required=True, min_items=1))
            if (r := _secret_ref(rf, f"spec.apiKeyAuth.credentialRefs[{i}]")) is not None]
    sources: list[tuple[str, str]] = []
    for ef in af.maps("extractFrom", required=True, min_items=1):
        check_fields(ef, ("headers", "params", "cookies"))
        for kind, key in (("header", "headers"), ("param", "params"), ("cookie", "cookies")):
            sources.extend((kind, n) for n in ef.strs(key) or [])
    if not sources:
        af.error("extractFrom", "must name at least one header, param or cookie")
        return None
    header = af.str("forwardClientIDHeader", check=formats.header_name) or ""
    return ApiKeyAuth(tuple(refs), tuple(sources), header, bool(af.bool("sanitize"))) if refs else None


def _provider(pf: Fields, names: set[str]) -> JwtProvider | None:
    check_fields(pf, ("name", "issuer", "audiences", "remoteJWKS", "localJWKS", "claimToHeaders", "extractFrom"),
                 ("recomputeRoute",))
    name = pf.str("name", required=True, min_len=1, max_len=253)
    if name is not None and name in names:
        pf.error("name", f"duplicate provider name {name!r}")
        return None
    issuer = pf.str("issuer", max_len=253) or ""
    audiences = tuple(pf.strs("audiences", max_items=8) or ())
    remote = local = None
    cache_s = None
    ref = None
    rf = pf.map("remoteJWKS")
    lf = pf.map("localJWKS")
    if (rf is None) == (lf is None):
        pf.error(None, "either remoteJWKS or localJWKS must be specified, not both")
    if rf is not None:
        check_fields(rf, ("uri",), ("backendRefs", "backendRef", "backendSettings", "failedRefetchDuration"))
        remote = rf.str("uri", required=True, min_len=1, max_len=253)
        if remote is not None:
            parts = urlsplit(remote)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                rf.error("uri", f"invalid URI {remote!r}: must be an http or https URL with a host")
                remote = None
        cache = duration_ms(rf, "cacheDuration", minimum_ms=1000)
        cache_s = cache // 1000 if cache is not None else None
    if lf is not None:
        check_fields(lf, ("type", "inline", "valueRef"))
        kind = lf.str("type", default="Inline", enum=("Inline", "ValueRef"))
        if kind == "Inline":
            local = lf.str("inline", min_len=1)
            if local is None:
                lf.error("inline", "required for type Inline")
        elif kind == "ValueRef":
            vf = lf.map("valueRef")
            if vf is None:
                lf.error("valueRef", "required for type ValueRef")
            else:
                group = vf.str("group") or ""
                vkind = vf.str("kind", required=True)
                vname = vf.str("name", required=True, min_len=1)
                if group != "" or vkind != "ConfigMap":
                    vf.error("kind", f"must name a ConfigMap, not {vkind}")
                elif vname is not None:
                    ref = ObjectRef("ConfigMap", vname, where="spec.jwt.providers.localJWKS.valueRef")
    claims = []
    for cf in pf.maps("claimToHeaders"):
        check_fields(cf, ("header", "claim"))
        header = cf.str("header", required=True, check=formats.header_name)
        claim = cf.str("claim", required=True, min_len=1)
        if header and claim:
            claims.append((header, claim))
    headers: list[tuple[str, str]] = []
    params: list[str] = []
    cookies: list[str] = []
    ef = pf.map("extractFrom")
    if ef is not None:
        check_fields(ef, ("headers", "cookies", "params"))
        for hf in ef.maps("headers"):
            check_fields(hf, ("name", "valuePrefix"))
            hname = hf.str("name", required=True, check=formats.header_name)
            if hname:
                headers.append((hname, hf.str("valuePrefix") or ""))
        params = list(ef.strs("params") or [])
        cookies = list(ef.strs("cookies") or [])
    if name is None or (remote is None and local is None and ref is None):
        return None
    names.add(name)
    return JwtProvider(name, issuer, audiences, remote, cache_s, local, ref, tuple(headers), tuple(params),
                       tuple(cookies), tuple(claims))


def _jwt(jf: Fields) -> Jwt | None:
    check_fields(jf, ("providers", "optional"), ("failOpen",))
    names: set[str] = set()
    providers = [p for pf in jf.maps("providers", required=True, min_items=1, max_items=4)
                 if (p := _provider(pf, names)) is not None]
    return Jwt(tuple(providers), bool(jf.bool("optional"))) if providers else None


def _backend(bf: Fields, where: str) -> ObjectRef | None:
    """extAuth.{http,grpc}: one Service port (backendRefs[0], or the deprecated backendRef)."""
    check_fields(bf, ("backendRefs", "backendRef", "path", "headersToBackend"), ("backendSettings", "pathOverride"))
    refs = list(bf.maps("backendRefs", max_items=16))
    single = bf.map("backendRef")
    if single is not None:
        refs.insert(0, single)
    if not refs:
        bf.error("backendRefs", "required: the authorization Service")
        return None
    if len(refs) > 1:
        bf.error("backendRefs", "meshgate uses one authorization Service: the first", severity="warning")
    rf = refs[0]
    check_fields(rf, ("group", "kind", "name", "namespace", "port", "weight"), ("fallback",))
    group = rf.str("group") or ""
    kind = rf.str("kind") or "Service"
    name = rf.str("name", required=True, min_len=1)
    ns = rf.str("namespace", min_len=1)
    port = rf.int("port", min=1, max=65535)
    if group != "" or kind != "Service":
        rf.error("kind", f"meshgate supports Service backends here, not {group + '/' if group else ''}{kind}")
        return None
    if port is None:
        rf.error("port", "required for a Service")
        return None
    return ObjectRef("Service", name, ns, port, where=where) if name else None


def _ext_auth(ef: Fields) -> ExtAuth | None:
    check_fields(ef, ("grpc", "http", "headersToExtAuth", "failOpen", "timeout"),
                 ("bodyToExtAuth", "recomputeRoute", "includeRouteMetadata", "contextExtensions", "statusOnError"))
    hf = ef.map("http")
    gf = ef.map("grpc")
    if (hf is None) == (gf is None):
        ef.error(None, "exactly one of grpc or http must be specified")
        return None
    timeout = duration_ms(ef, "timeout", minimum_ms=1)
    common = {"headers_to_ext_auth": tuple(ef.strs("headersToExtAuth") or ()),
              "fail_open": bool(ef.bool("failOpen")), "timeout_ms": timeout if timeout is not None else 10_000}
    if hf is not None:
        backend = _backend(hf, "spec.extAuth.http.backendRefs[0]")
        path = hf.str("path", max_len=1024) or ""
        if path and not path.startswith("/"):
            hf.error("path", f"invalid path {path!r}: must start with /")
            path = ""
        if backend is None:
            return None
        return ExtAuth("HTTP", backend, path, tuple(hf.strs("headersToBackend") or ()), **common)  # type: ignore[arg-type]
    assert gf is not None
    backend = _backend(gf, "spec.extAuth.grpc.backendRefs[0]")
    return ExtAuth("GRPC", backend, **common) if backend is not None else None  # type: ignore[arg-type]


def _rule(rf: Fields, i: int) -> AuthorizationRule | None:
    check_fields(rf, ("name", "action", "operation", "principal"), ("cel",))
    name = rf.str("name", max_len=253) or f"rule-{i}"
    action = rf.str("action", required=True, enum=("Allow", "Deny"))
    cidrs: list[str] = []
    provider = None
    claims: list[Claim] = []
    scopes: list[str] = []
    headers: list[tuple[str, tuple[str, ...]]] = []
    pf = rf.map("principal")
    if pf is not None:
        check_fields(pf, ("clientCIDRs", "jwt", "headers"), ("clientIPGeoLocations",))
        for c in pf.strs("clientCIDRs") or []:
            try:
                cidrs.append(str(ipaddress.ip_network(c, strict=False)))
            except ValueError:
                pf.error("clientCIDRs", f"invalid CIDR {c!r}")
        jf = pf.map("jwt")
        if jf is not None:
            check_fields(jf, ("provider", "claims", "scopes"))
            provider = jf.str("provider", required=True, min_len=1)
            for cf in jf.maps("claims", max_items=16):
                check_fields(cf, ("name", "valueType", "values"))
                cname = cf.str("name", required=True, min_len=1)
                vtype = cf.str("valueType", default="String", enum=("String", "StringArray"))
                values = cf.strs("values", required=True, min_items=1)
                if cname and values:
                    claims.append(Claim(cname, tuple(values), vtype == "StringArray"))
            scopes = list(jf.strs("scopes") or [])
            if not claims and not scopes:
                jf.error(None, "at least one of claims or scopes must be specified")
        for hf in pf.maps("headers", max_items=16):
            check_fields(hf, ("name", "values"))
            hname = hf.str("name", required=True, check=formats.header_name)
            values = hf.strs("values", required=True, min_items=1)
            if hname and values:
                headers.append((hname, tuple(values)))
        if not pf.has("clientCIDRs") and not pf.has("jwt") and not pf.has("headers"):
            pf.error(None, "at least one of clientCIDRs, jwt or headers must be specified")
    methods: list[str] = []
    path = None
    of = rf.map("operation")
    if of is not None:
        check_fields(of, ("methods", "path"))
        methods = [m.upper() for m in of.strs("methods") or []]
        qf = of.map("path")
        if qf is not None:
            check_fields(qf, ("type", "value"))
            ptype = qf.str("type", default="PathPrefix", enum=("Exact", "PathPrefix", "RegularExpression"))
            value = qf.str("value", default="/",
                           check=formats.regex if ptype == "RegularExpression" else None)
            if ptype is not None and value is not None:
                if ptype != "RegularExpression" and not value.startswith("/"):
                    qf.error("value", f"invalid path {value!r}: must start with /")
                else:
                    path = (ptype, value)
        if not methods and path is None:
            of.error(None, "at least one of methods or path must be specified")
    if pf is None:
        rf.error("principal", "required (a rule without one needs cel, which meshgate does not support)")
        return None
    if action is None:
        return None
    return AuthorizationRule(name, action, tuple(cidrs), provider, tuple(claims), tuple(scopes), tuple(headers),
                             tuple(methods), path)


def _authorization(af: Fields) -> Authorization | None:
    check_fields(af, ("rules", "defaultAction"))
    default = af.str("defaultAction", default="Deny", enum=("Allow", "Deny"))
    rules = [r for i, rf in enumerate(af.maps("rules")) if (r := _rule(rf, i)) is not None]
    return Authorization(default or "Deny", tuple(rules))


def _csrf(cf: Fields) -> Csrf:
    check_fields(cf, ("additionalOrigins", "shadowFraction"))
    origins = []
    for i, o in enumerate(cf.strs("additionalOrigins") or []):
        # Envoy compares an origin's host and port: a scheme given is dropped.
        parts = urlsplit(o) if "://" in o else None
        host = parts.netloc if parts is not None else o
        if not host or "/" in host or (parts is not None and (parts.path not in ("", "/") or parts.query)):
            cf.error("additionalOrigins", f"[{i}] {o!r}: must be an origin such as https://app.example.com")
            continue
        origins.append(host)
    shadow = None
    sf = cf.map("shadowFraction")
    if sf is not None:
        check_fields(sf, ("numerator", "denominator"))
        numerator = sf.int("numerator", required=True, min=0)
        denominator = sf.int("denominator", default=100, min=1) or 100
        if numerator is not None:
            if numerator > denominator:
                sf.error("numerator", f"must not exceed the denominator ({denominator}), got {numerator}")
            else:
                shadow = 100.0 * numerator / denominator
    return Csrf(tuple(origins), shadow)


def parse_security_policy(f: Fields, meta: Meta, source: Source) -> SecurityPolicy:
    """SecurityPolicy.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return SecurityPolicy(meta, source, PolicyTargets())
    check_fields(spec, ("targetRef", "targetRefs", "targetSelectors", "cors", "basicAuth", "apiKeyAuth", "jwt",
                        "extAuth", "authorization", "csrf"), _UNSUPPORTED_SPEC)
    targets = parse_targets(spec)
    cf = spec.map("cors")
    bf = spec.map("basicAuth")
    kf = spec.map("apiKeyAuth")
    jf = spec.map("jwt")
    ef = spec.map("extAuth")
    af = spec.map("authorization")
    jwt = _jwt(jf) if jf is not None else None
    authorization = _authorization(af) if af is not None else None
    if authorization is not None:
        providers = {p.name for p in jwt.providers} if jwt is not None else set()
        for i, rule in enumerate(authorization.rules):
            if rule.jwt_provider is not None and rule.jwt_provider not in providers:
                spec.error("authorization", f"rules[{i}].principal.jwt.provider {rule.jwt_provider!r} names no "
                           "provider of spec.jwt")
    return SecurityPolicy(meta, source, targets,
                          cors=_cors(cf) if cf is not None else None,
                          basic_auth=_basic_auth(bf) if bf is not None else None,
                          api_key=_api_key(kf) if kf is not None else None,
                          jwt=jwt,
                          ext_auth=_ext_auth(ef) if ef is not None else None,
                          authorization=authorization,
                          csrf=_csrf(xf) if (xf := spec.map("csrf")) is not None else None)
