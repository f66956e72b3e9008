"""HTTPRoute: matches, filters, backends, timeouts and retries, with the CRD's schema and CEL checks.

Semantic problems (a backend that does not exist, a filter meshgate does not implement) are not
errors here: the gateway translation reports them as status conditions, as a controller would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import formats
from ..fields import Fields
from ..meta import Meta, Source
from .common import (
    BackendObjectRef,
    HeaderModifier,
    ParentRef,
    ValueMatch,
    check_group,
    check_kind,
    check_section_name,
    parse_backend_object_ref,
    parse_header_modifier,
    parse_parent_ref,
    parse_value_matches,
)
from .session_persistence import SessionPersistence, parse_session_persistence

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
FILTER_TYPES = (
    "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect",
    "URLRewrite", "ExtensionRef", "CORS", "ExternalAuth",
)
# The filter field that goes with each type.
_FILTER_FIELDS = {
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestMirror": "requestMirror",
    "RequestRedirect": "requestRedirect",
    "URLRewrite": "urlRewrite",
    "ExtensionRef": "extensionRef",
    "CORS": "cors",
    "ExternalAuth": "externalAuth",
}



@dataclass(frozen=True, slots=True)
class PathMatch:
    """type is Exact, PathPrefix or RegularExpression."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One HTTPRouteMatch."""

    path: PathMatch
    headers: tuple[ValueMatch, ...] = ()
    query_params: tuple[ValueMatch, ...] = ()
    method: str | None = None


@dataclass(frozen=True, slots=True)
class PathModifier:
    """type ReplaceFullPath or ReplacePrefixMatch, with its value."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class RequestRedirect:
    """RequestRedirect filter."""

    scheme: str | None
    hostname: str | None
    path: PathModifier | None
    port: int | None
    status_code: int


@dataclass(frozen=True, slots=True)
class URLRewrite:
    """URLRewrite filter."""

    hostname: str | None
    path: PathModifier | None


@dataclass(frozen=True, slots=True)
class RequestMirror:
    """RequestMirror filter: fraction is (numerator, denominator); None means 100%."""

    backend: BackendObjectRef
    fraction: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class RouteFilter:
    """One filter; only the field for its type is set."""

    type: str
    request_header_modifier: HeaderModifier | None = None
    response_header_modifier: HeaderModifier | None = None
    request_redirect: RequestRedirect | None = None
    url_rewrite: URLRewrite | None = None
    request_mirror: RequestMirror | None = None
    extension_ref: tuple[str, str, str] | None = None  # group, kind, name


@dataclass(frozen=True, slots=True)
class BackendRef:
    """An HTTPBackendRef: a backend, its weight and its own filters."""

    ref: BackendObjectRef
    weight: int
    filters: tuple[RouteFilter, ...]


@dataclass(frozen=True, slots=True)
class RouteRetry:
    """HTTPRouteRule.retry (GEP-1731): status codes to retry, how many retries, the backoff (ms).

    attempts and backoff_ms are None when unset (the implementation decides)."""

    codes: tuple[int, ...]
    attempts: int | None
    backoff_ms: int | None


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One HTTPRouteRule; timeouts in milliseconds (0 disables, None unset)."""

    name: str | None
    matches: tuple[RouteMatch, ...]
    filters: tuple[RouteFilter, ...]
    backend_refs: tuple[BackendRef, ...]
    request_timeout_ms: int | None
    backend_timeout_ms: int | None
    line: int = field(compare=False)  # where it is written: no part of the spec
    retry: RouteRetry | None = None
    session_persistence: SessionPersistence | None = None


@dataclass(frozen=True, slots=True)
class HTTPRoute:
    """An HTTPRoute."""

    meta: Meta
    source: Source
    parent_refs: tuple[ParentRef, ...]
    hostnames: tuple[str, ...]
    rules: tuple[RouteRule, ...]
    kind = "HTTPRoute"


def _parse_match(f: Fields) -> RouteMatch | None:
    path = PathMatch("PathPrefix", "/")
    pf = f.map("path")
    if pf is not None:
        ptype = pf.str("type", default="PathPrefix", enum=("Exact", "PathPrefix", "RegularExpression"))
        pvalue = pf.str("value", default="/", max_len=1024)
        if ptype is None or pvalue is None:
            return None
        if ptype == "RegularExpression":
            reason = formats.regex(pvalue)
        else:
            reason = formats.path_value(pvalue)
        if reason:
            pf.error("value", f"invalid value {pvalue!r}: {reason}")
            return None
        path = PathMatch(ptype, pvalue)
    headers = parse_value_matches(f, "headers", case_insensitive=True)
    query = parse_value_matches(f, "queryParams", case_insensitive=False)
    method = f.str("method", enum=METHODS)
    return RouteMatch(path, headers, query, method)


def _parse_path_modifier(f: Fields) -> PathModifier | None:
    ptype = f.str("type", required=True, enum=("ReplaceFullPath", "ReplacePrefixMatch"))
    if ptype is None:
        return None
    key = "replaceFullPath" if ptype == "ReplaceFullPath" else "replacePrefixMatch"
    other = "replacePrefixMatch" if ptype == "ReplaceFullPath" else "replaceFullPath"
    # The CRD bounds only the length; an empty replacePrefixMatch removes the prefix ("/foo/bar" → "/bar").
    value = f.str(key, required=True, max_len=1024, check=lambda v: formats.path_value(v) if v else None)
    if f.has(other):
        f.error(other, f"must not be set when type is {ptype}")
    if value is None:
        return None
    return PathModifier(ptype, value)


def _filter_path(body: Fields, rule_matches: tuple[RouteMatch, ...] | None) -> tuple[bool, PathModifier | None]:
    """A redirect's or rewrite's `path`: (False, None) when invalid, (True, None) when absent."""
    pf = body.map("path")
    if pf is None:
        return True, None
    path = _parse_path_modifier(pf)
    if path is None:
        return False, None
    if path.type == "ReplacePrefixMatch" and not _single_prefix(rule_matches):
        pf.error(None, "ReplacePrefixMatch requires exactly one match in the rule, of type PathPrefix")
        return False, None
    return True, path


def _parse_filter(f: Fields, rule_matches: tuple[RouteMatch, ...] | None,
                  types: tuple[str, ...] = FILTER_TYPES) -> RouteFilter | None:
    ftype = f.str("type", required=True, enum=types)
    if ftype is None:
        return None
    want = _FILTER_FIELDS[ftype]
    for other in (_FILTER_FIELDS[t] for t in types):
        if other != want and f.has(other):
            f.error(other, f"must not be set for filter type {ftype}")
    if not f.has(want):
        f.error(want, f"required for filter type {ftype}")
        return None
    body = f.map(want)
    if body is None:
        return None
    if ftype in ("RequestHeaderModifier", "ResponseHeaderModifier"):
        mod = parse_header_modifier(body)
        if ftype == "RequestHeaderModifier":
            return RouteFilter(ftype, request_header_modifier=mod)
        return RouteFilter(ftype, response_header_modifier=mod)
    if ftype == "RequestRedirect":
        scheme = body.str("scheme", enum=("http", "https"))
        host = body.str("hostname", check=formats.hostname)
        port = body.int("port", min=1, max=65535)
        code = body.int("statusCode", default=302)
        if code not in (301, 302, 303, 307, 308):
            body.error("statusCode", f"unsupported value {code}: must be one of 301, 302, 303, 307, 308")
            return None
        ok, path = _filter_path(body, rule_matches)
        if not ok:
            return None
        return RouteFilter(ftype, request_redirect=RequestRedirect(scheme, host, path, port, code))
    if ftype == "URLRewrite":
        host = body.str("hostname", check=formats.hostname)
        ok, path = _filter_path(body, rule_matches)
        if not ok:
            return None
        return RouteFilter(ftype, url_rewrite=URLRewrite(host, path))
    if ftype == "RequestMirror":
        bf = body.map("backendRef", required=True)
        ref = parse_backend_object_ref(bf) if bf is not None else None
        fraction: tuple[int, int] | None = None
        if body.has("percent") and body.has("fraction"):
            body.error(None, "only one of percent or fraction may be set")
            return None
        if body.has("percent"):
            pct = body.int("percent", min=0, max=100)
            if pct is None:
                return None
            fraction = (pct, 100)
        elif body.has("fraction"):
            fr = body.map("fraction")
            if fr is None:
                return None
            num = fr.int("numerator", required=True, min=0)
            den = fr.int("denominator", default=100, min=1)
            if num is None or den is None:
                return None
            if num > den:
                fr.error("numerator", "must be less than or equal to denominator")
                return None
            fraction = (num, den)
        if ref is None:
            return None
        return RouteFilter(ftype, request_mirror=RequestMirror(ref, fraction))
    if ftype == "ExtensionRef":
        group = body.str("group", required=True, check=check_group)
        kind = body.str("kind", required=True, check=check_kind)
        name = body.str("name", required=True, min_len=1)
        if group is None or kind is None or name is None:
            return None
        return RouteFilter(ftype, extension_ref=(group, kind, name))
    # CORS, ExternalAuth: schema-valid, not implemented; the translation reports them.
    return RouteFilter(ftype)


def _single_prefix(matches: tuple[RouteMatch, ...] | None) -> bool:
    """The CRD rule for ReplacePrefixMatch: exactly one match, of type PathPrefix."""
    if not matches:
        return True  # the default match is PathPrefix /
    return len(matches) == 1 and matches[0].path.type == "PathPrefix"


def parse_filters(f: Fields, key: str, matches: tuple[RouteMatch, ...] | None,
                  types: tuple[str, ...] = FILTER_TYPES) -> tuple[RouteFilter, ...]:
    """A rule's or backendRef's filters of the given types (an HTTPRoute's, or a GRPCRoute's subset)."""
    out: list[RouteFilter] = []
    counts: dict[str, int] = {}
    for ff in f.maps(key, max_items=16):
        flt = _parse_filter(ff, matches, types)
        if flt is None:
            continue
        counts[flt.type] = counts.get(flt.type, 0) + 1
        if flt.type not in ("RequestMirror", "ExtensionRef") and counts[flt.type] > 1:
            ff.error("type", f"filter type {flt.type} may appear at most once")
            continue
        out.append(flt)
    if counts.get("RequestRedirect") and counts.get("URLRewrite"):
        f.error(key, "RequestRedirect and URLRewrite filters cannot be used together")
    return tuple(out)


def _parse_rule(f: Fields, seen_names: dict[str, int]) -> RouteRule | None:
    name = f.str("name", check=check_section_name)
    if name is not None:
        if name in seen_names:
            f.error("name", f"duplicate rule name {name!r} (first at line {seen_names[name]})")
        seen_names[name] = f.line
    matches: list[RouteMatch] = []
    if f.has("matches"):
        for mf in f.maps("matches", max_items=64):
            m = _parse_match(mf)
            if m is not None:
                matches.append(m)
    else:
        matches.append(RouteMatch(PathMatch("PathPrefix", "/")))
    mt = tuple(matches)
    filters = parse_filters(f, "filters", mt)
    backends: list[BackendRef] = []
    for bf in f.maps("backendRefs", max_items=16):
        ref = parse_backend_object_ref(bf)
        weight = bf.int("weight", default=1, min=0, max=1_000_000)
        bfilters = parse_filters(bf, "filters", mt)
        if ref is not None and weight is not None:
            backends.append(BackendRef(ref, weight, bfilters))
    request_ms = backend_ms = None
    tf = f.map("timeouts")
    if tf is not None:
        req = tf.str("request", check=formats.duration)
        back = tf.str("backendRequest", check=formats.duration)
        request_ms = formats.duration_ms(req) if req else None
        backend_ms = formats.duration_ms(back) if back else None
        if request_ms and backend_ms is not None and (backend_ms == 0 or backend_ms > request_ms):
            tf.error("backendRequest", "must be less than or equal to request and not zero when request is set")
    if any(r.type == "RequestRedirect" for r in filters) and backends:
        f.error("backendRefs", "must be empty when a RequestRedirect filter is used")
    rf = f.map("retry")
    retry = _parse_retry(rf) if rf is not None else None
    sf = f.map("sessionPersistence")
    session = parse_session_persistence(sf) if sf is not None else None
    return RouteRule(name, mt, filters, tuple(backends), request_ms, backend_ms, f.line, retry, session)


def _parse_retry(f: Fields) -> RouteRetry | None:
    """HTTPRouteRetry as the CRD has it: codes a set of 400-599, attempts ≥ 1, backoff a Duration."""
    codes: list[int] = []
    raw = f.data.get("codes")
    items: list = raw if isinstance(raw, list) else []
    if raw is not None and not isinstance(raw, list):
        f.error("codes", "must be a list of integers")
    for i, code in enumerate(items):
        path, line = f"{f.sub('codes')}[{i}]", f.item_line(items, i)
        if isinstance(code, bool) or not isinstance(code, int):
            f.ctx.error(line, path, f"must be an integer, got {code!r}")
        elif not 400 <= code <= 599:
            f.ctx.error(line, path, f"must be between 400 and 599, got {code}")
        elif code in codes:
            f.ctx.error(line, path, f"duplicate value {code} (codes is a set)")
        else:
            codes.append(code)
    attempts = f.int("attempts")
    if attempts is not None and attempts < 1:
        f.error("attempts", f"must be at least 1, got {attempts}")
        return None
    backoff = f.str("backoff", check=formats.duration)
    if (f.has("attempts") and attempts is None) or (f.has("backoff") and backoff is None):
        return None
    return RouteRetry(tuple(codes), attempts, formats.duration_ms(backoff) if backoff else None)


def parse_http_route(f: Fields, meta: Meta, source: Source) -> HTTPRoute:
    """HTTPRoute.spec."""
    spec = f.map("spec", required=True)
    if spec is None:
        return HTTPRoute(meta, source, (), (), ())
    parents = [p for pf in spec.maps("parentRefs", max_items=32) if (p := parse_parent_ref(pf)) is not None]
    hostnames = spec.strs("hostnames", max_items=16, check=formats.hostname) or []
    seen: dict[str, int] = {}
    if spec.has("rules"):
        rules = [r for rf in spec.maps("rules", max_items=16) if (r := _parse_rule(rf, seen)) is not None]
    else:
        # A route without rules forwards nothing: the default rule matches "/" with no backends.
        rules = [RouteRule(None, (RouteMatch(PathMatch("PathPrefix", "/")),), (), (), None, None, spec.line)]
    return HTTPRoute(meta, source, tuple(parents), tuple(hostnames), tuple(rules))
