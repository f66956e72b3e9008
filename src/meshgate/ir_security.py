"""The IR of request security on a route: who may pass (authorization, Envoy's RBAC filter) and
how a request proves who it is (JWT, basic auth, API keys, an external authorization service).

Everything is resolved: Secrets' contents read, JWKS inlined or named by URI, the external
service's cluster chosen. The xDS stage spells each as its Envoy filter (xds/security/).

Authorization is general on purpose: Envoy Gateway's SecurityPolicy `authorization` (ordered
rules, first match decides, else a default action) and Istio's AuthorizationPolicy (DENY
policies, then ALLOW policies; default deny when any ALLOW exists) both map onto it: an
ordered list of rules, each an action and conditions that must all hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ir import SourceRef


@dataclass(frozen=True, slots=True)
class StringMatch:
    """A string condition: `kind` exact, prefix, suffix, contains, regex (RE2, whole string) or
    present (any value; `value` unused)."""

    kind: str
    value: str = ""
    ignore_case: bool = False


@dataclass(frozen=True, slots=True)
class HeaderCondition:
    """A request header matching any of `values` (none: merely present); `invert`: it must not."""

    name: str
    values: tuple[StringMatch, ...] = ()
    invert: bool = False


@dataclass(frozen=True, slots=True)
class ClaimCondition:
    """A claim of a JWT the `provider` verified (its payload in Envoy's dynamic metadata), at
    `path` (nested claims: ("realm", "roles")), equal to one of `values` or, for a list claim,
    holding one of them."""

    provider: str
    path: tuple[str, ...]
    values: tuple[str, ...]
    list_value: bool = False


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sends a request; every non-empty field must hold (AND), each field holding when any of
    its entries does (OR); the `not_` fields must not hold.

    `source_cidrs`: the client address (the downstream remote address: the peer, or the address
    X-Forwarded-For names when the proxy trusts it); `direct_cidrs`: the peer of the connection
    itself. `request_principals`: `issuer/subject` of a verified JWT, the issuer in full (a
    route's known issuer: the payload is kept under its name), the subject with an optional `*`
    at either end (Istio's wildcard issuers are expanded before, gateway/policies/istio_security.py);
    a bare issuer: any subject. `claims`: claims of a verified JWT; `headers`: request headers."""

    source_cidrs: tuple[str, ...] = ()
    not_source_cidrs: tuple[str, ...] = ()
    direct_cidrs: tuple[str, ...] = ()
    not_direct_cidrs: tuple[str, ...] = ()
    request_principals: tuple[str, ...] = ()
    claims: tuple[ClaimCondition, ...] = ()
    headers: tuple[HeaderCondition, ...] = ()
    # Nested principals: every one of `all_of` must hold, and one of `any_of` (when given);
    # how Istio's `when` conditions, each an AND, join a rule's sources.
    all_of: tuple[Principal, ...] = ()
    any_of: tuple[Principal, ...] = ()


@dataclass(frozen=True, slots=True)
class Permission:
    """What a request asks for; as Principal: fields ANDed, entries ORed, `not_` negated.
    `paths` match the path without its query; `hosts` the :authority; `ports` the local port."""

    paths: tuple[StringMatch, ...] = ()
    not_paths: tuple[StringMatch, ...] = ()
    methods: tuple[str, ...] = ()
    not_methods: tuple[str, ...] = ()
    hosts: tuple[StringMatch, ...] = ()
    not_hosts: tuple[StringMatch, ...] = ()
    ports: tuple[int, ...] = ()
    not_ports: tuple[int, ...] = ()
    headers: tuple[HeaderCondition, ...] = ()
    all_of: tuple[Permission, ...] = ()  # nested permissions that must all hold too


@dataclass(frozen=True, slots=True)
class AuthorizationRule:
    """A rule: `action` (ALLOW or DENY) for requests from any of `principals` (none: anyone)
    asking for any of `permissions` (none: anything); at least one of the two is given."""

    name: str
    action: str
    principals: tuple[Principal, ...] = ()
    permissions: tuple[Permission, ...] = ()


@dataclass(frozen=True, slots=True)
class Authorization:
    """Ordered rules: the first that matches a request decides it; `default_action` (ALLOW or
    DENY) decides the requests no rule matches. A denied request is answered 403."""

    rules: tuple[AuthorizationRule, ...]
    default_action: str
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class JwtHeader:
    """Where a token is read from: a header, with the prefix before the token (`Bearer `)."""

    name: str
    prefix: str = ""


@dataclass(frozen=True, slots=True)
class JwtProvider:
    """A JWT issuer: its key set (`local_jwks`, the JWKS JSON; else fetched from `remote_jwks`,
    a URI, through the cluster `jwks_cluster`), the issuer and audiences a token must carry,
    where tokens are read (nothing said: Authorization: Bearer, and the access_token
    parameter), and the claims copied into request headers (header, claim)."""

    name: str
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    local_jwks: str | None = None
    remote_jwks: str | None = None
    jwks_cluster: str | None = None
    jwks_cache_s: int | None = None
    headers: tuple[JwtHeader, ...] = ()
    params: tuple[str, ...] = ()
    cookies: tuple[str, ...] = ()
    claim_to_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Jwt:
    """A route requires a valid token of one of `providers` (401 without); `optional`: a request
    without any token passes (one with an invalid token is still refused). `name`: the
    requirement's name, unique per policy (the jwt_authn filter's requirement_map key)."""

    name: str
    providers: tuple[JwtProvider, ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """Users and password hashes, as an htpasswd file ({SHA} entries); `forward_username_header`:
    the header the authenticated user's name is sent to the backend in. `name`: unique per
    policy (the filter's name for these users)."""

    htpasswd: bytes
    forward_username_header: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class ApiKeySource:
    """Where a client's API key is read: a header, a query parameter or a cookie (one of)."""

    header: str = ""
    query: str = ""
    cookie: str = ""


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    """Clients (client id, key) and where their keys are read from; `forward_client_id_header`:
    the header the client's id goes to the backend in; `strip_key`: drop the key from the
    request before it is forwarded."""

    clients: tuple[tuple[str, str], ...]
    sources: tuple[ApiKeySource, ...]
    forward_client_id_header: str = ""
    strip_key: bool = False


@dataclass(frozen=True, slots=True)
class ExtAuth:
    """An external authorization service decides each request: over HTTP (`path` prefixed to
    the request's path) or gRPC, through `cluster` (a Service port's cluster; `authority` its
    host). `headers_to_service`: the request headers sent to it (none: all); `headers_to_backend`:
    the headers of its answer copied into the request; `fail_open`: let requests through when it
    cannot be reached. `name`: unique per policy (the filter's name for this service)."""

    name: str
    protocol: str  # HTTP or GRPC
    cluster: str
    authority: str = ""
    path: str = ""
    headers_to_service: tuple[str, ...] = ()
    headers_to_backend: tuple[str, ...] = ()
    fail_open: bool = False
    timeout_ms: int = 10_000
    # Istio's providers say more: the status when the service cannot be reached (None: 403), the
    # headers of a denial copied to the client (and of an allowing answer), headers added to each
    # check request, and whether (how much of) the body is sent. In every header-name list here a
    # leading or trailing `*` is a suffix or prefix match (Istio's forms).
    status_on_error: int | None = None
    headers_to_client: tuple[str, ...] = ()
    headers_to_client_on_allow: tuple[str, ...] = ()
    headers_to_add: tuple[tuple[str, str], ...] = ()
    body: ExtAuthBody | None = None


@dataclass(frozen=True, slots=True)
class ExtAuthBody:
    """The request body goes to the external service: at most `max_bytes` of it (a longer one
    is refused, 413, unless `allow_partial`); `as_bytes`: raw rather than UTF-8 text."""

    max_bytes: int = 0
    allow_partial: bool = False
    as_bytes: bool = False


@dataclass(frozen=True, slots=True)
class CustomAuthorization:
    """Istio's CUSTOM action: the requests matching one of `rules` (their action unused) are
    decided by the external service `service`; the others never reach it. Each rule's name starts
    with `prefix` (the external authorization is enabled by the name of the rule that matched)."""

    service: ExtAuth
    rules: tuple[AuthorizationRule, ...]
    prefix: str


@dataclass(frozen=True, slots=True)
class Security:
    """All a route's request security, in the order Envoy runs it: external authorization, API
    keys, basic auth, JWT, Istio's CUSTOM authorization, then authorization."""

    ext_auth: ExtAuth | None = None
    api_key: ApiKeyAuth | None = None
    basic_auth: BasicAuth | None = None
    jwt: Jwt | None = None
    authorization: Authorization | None = None
    custom: CustomAuthorization | None = None
