"""IR route configurations to Envoy RouteConfiguration."""

from __future__ import annotations

import re

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.retry.host.previous_hosts.v3 import previous_hosts_pb2
from envoy.type.matcher.v3 import regex_pb2, string_pb2
from envoy.type.v3 import percent_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from ..ir_clusters import HashKey
from ..naming import INVALID_BACKEND_CLUSTER
from .common import duration_ms, header_options, to_any
from .http_filters import per_route_configs
from .matchers import string_match
from .metadata import set_metadata
from .tracing import span_tag

_REDIRECT_CODES = {
    301: rc.RedirectAction.MOVED_PERMANENTLY,
    302: rc.RedirectAction.FOUND,
    303: rc.RedirectAction.SEE_OTHER,
    307: rc.RedirectAction.TEMPORARY_REDIRECT,
    308: rc.RedirectAction.PERMANENT_REDIRECT,
}
_NO_TIMEOUT = duration_ms(0)
# Connection errors a retry stanza retries (GEP-1731: "disconnect, reset, timeout, TCP failure");
# "reset" also covers a per-try timeout. Status codes only as listed in `codes`, never "5xx".
_RETRY_ON_CONNECTION_ERRORS = ("connect-failure", "refused-stream", "reset")
# As Istio: a retry prefers another endpoint than the ones already tried, when there is one.
_PREVIOUS_HOSTS = rc.RetryPolicy.RetryHostPredicate(
    name="envoy.retry_host_predicates.previous_hosts",
    typed_config=to_any(previous_hosts_pb2.PreviousHostsPredicate()))
_HOST_SELECTION_ATTEMPTS = 5


_GRPC_CONTENT_TYPE = rc.HeaderMatcher(name="content-type", string_match=string_pb2.StringMatcher(
    safe_regex=regex_pb2.RegexMatcher(regex=r"application/grpc(-web(-text)?)?([+;].*)?")))


def route_match(m: ir.RouteMatch) -> rc.RouteMatch:
    """Path (segment-aware prefix, exact or regex), headers, method, query parameters, gRPC only."""
    out = rc.RouteMatch()
    if m.path_kind == "exact":
        out.path = m.path
    elif m.path_kind == "regex":
        out.safe_regex.regex = m.path
    elif m.path == "/":
        out.prefix = "/"
    else:
        out.path_separated_prefix = m.path
    if m.grpc:
        # Only gRPC requests, and gRPC-Web ones: a gRPC-Web filter (a ClientTrafficPolicy's
        # grpc.enableWeb) turns them into gRPC after the route is chosen, and Envoy's own `grpc`
        # match would have refused them already.
        out.headers.append(_GRPC_CONTENT_TYPE)
    if m.method:
        out.headers.append(rc.HeaderMatcher(name=":method", string_match=string_pb2.StringMatcher(exact=m.method)))
    for h in m.headers:
        out.headers.append(rc.HeaderMatcher(name=h.name.lower(), string_match=string_match(h)))
    for q in m.query_params:
        out.query_parameters.append(rc.QueryParameterMatcher(name=q.name, string_match=string_match(q)))
    return out


def _prefix_rewrite(matched: str, replacement: str) -> tuple[str | None, regex_pb2.RegexMatchAndSubstitute | None]:
    """Replace the matched path prefix, on path segment boundaries, as the Gateway API means it.

    Returns (prefix_rewrite, regex_rewrite); exactly one is set.
    """
    replacement = replacement if replacement == "/" else replacement.rstrip("/")
    if matched == "/":
        if replacement == "/":
            return "/", None
        # "/" → "/new", "/a" → "/new/a": keep the rest of the path as its own segment.
        return None, regex_pb2.RegexMatchAndSubstitute(
            pattern=regex_pb2.RegexMatcher(regex=r"^/(.*)"), substitution=replacement + r"/\1")
    if replacement == "/":
        # "/old" → "/", "/old/a" → "/a".
        return None, regex_pb2.RegexMatchAndSubstitute(
            pattern=regex_pb2.RegexMatcher(regex=f"^{re.escape(matched)}/*"), substitution="/")
    return replacement, None


def _full_rewrite(path: str) -> regex_pb2.RegexMatchAndSubstitute:
    return regex_pb2.RegexMatchAndSubstitute(pattern=regex_pb2.RegexMatcher(regex=r"^/.*$"), substitution=path)


def _redirect(r: ir.Redirect) -> rc.RedirectAction:
    out = rc.RedirectAction(response_code=_REDIRECT_CODES[r.status_code])
    if r.scheme:
        out.scheme_redirect = r.scheme
    if r.hostname:
        out.host_redirect = r.hostname
    if r.port is not None:
        out.port_redirect = r.port
    if r.full_path is not None:
        out.path_redirect = r.full_path
    elif r.prefix is not None:
        prefix, regex = _prefix_rewrite(*r.prefix)
        if regex is not None:
            out.regex_rewrite.CopyFrom(regex)
        else:
            out.prefix_rewrite = prefix or "/"
    return out


def _apply_headers(msg: rc.Route | rc.WeightedCluster.ClusterWeight, request: ir.HeaderMutation | None,
                   response: ir.HeaderMutation | None) -> None:
    """Header changes on a route or a weighted cluster (both carry the same four fields)."""
    if request is not None:
        msg.request_headers_to_add.extend(header_options(request))
        msg.request_headers_to_remove.extend(request.remove)
    if response is not None:
        msg.response_headers_to_add.extend(header_options(response))
        msg.response_headers_to_remove.extend(response.remove)


def _weighted(backends: tuple[ir.WeightedBackend, ...]) -> rc.WeightedCluster:
    clusters = []
    for b in backends:
        cw = rc.WeightedCluster.ClusterWeight(name=b.cluster or INVALID_BACKEND_CLUSTER,
                                              weight=wrappers_pb2.UInt32Value(value=b.weight))
        _apply_headers(cw, b.request_headers, b.response_headers)
        clusters.append(cw)
    return rc.WeightedCluster(clusters=clusters)


def _mirror(m: ir.Mirror) -> rc.RouteAction.RequestMirrorPolicy:
    policy = rc.RouteAction.RequestMirrorPolicy(cluster=m.cluster)
    if (m.numerator, m.denominator) != (100, 100) and m.numerator != m.denominator:
        policy.runtime_fraction.default_value.CopyFrom(percent_pb2.FractionalPercent(
            numerator=m.numerator * 1_000_000 // m.denominator,
            denominator=percent_pb2.FractionalPercent.MILLION))
    return policy


def hash_policies(key: HashKey) -> list[rc.RouteAction.HashPolicy]:
    """What a cluster's consistent hashing hashes on, as Envoy route hash policies."""
    hp = rc.RouteAction.HashPolicy
    if key.kind == "header":
        return [hp(header=hp.Header(header_name=key.name))]
    if key.kind == "cookie":
        cookie = hp.Cookie(name=key.name, path=key.path)
        if key.ttl_ms is not None:
            cookie.ttl.CopyFrom(duration_ms(key.ttl_ms))
        return [hp(cookie=cookie)]
    if key.kind == "source_ip":
        return [hp(connection_properties=hp.ConnectionProperties(source_ip=True))]
    if key.kind == "query_parameter":
        return [hp(query_parameter=hp.QueryParameter(name=key.name))]
    return []


HashPolicies = dict[str, list[rc.RouteAction.HashPolicy]]  # cluster name → its hash policies


def _forward(r: ir.Route, hashing: HashPolicies) -> rc.RouteAction:
    action = rc.RouteAction(
        timeout=duration_ms(r.timeout_ms) if r.timeout_ms is not None else _NO_TIMEOUT,
        cluster_not_found_response_code=rc.RouteAction.INTERNAL_SERVER_ERROR,
    )
    only = r.backends[0] if len(r.backends) == 1 else None
    if only is not None and only.cluster and only.request_headers is None and only.response_headers is None:
        action.cluster = only.cluster
    else:
        action.weighted_clusters.CopyFrom(_weighted(r.backends))
    if r.backend_timeout_ms is not None:
        # Each attempt bounded by the backend timeout; without a request timeout and without
        # retries that is all of it (with retries, the attempts and their backoff are).
        action.retry_policy.per_try_timeout.CopyFrom(duration_ms(r.backend_timeout_ms))
        if r.timeout_ms is None and r.retry is None:
            action.timeout.CopyFrom(duration_ms(r.backend_timeout_ms))
    if r.retry is not None:
        _retry_policy(action.retry_policy, r.retry)
    if r.stream_idle_timeout_ms is not None:
        action.idle_timeout.CopyFrom(duration_ms(r.stream_idle_timeout_ms))
    if r.rewrite is not None:
        if r.rewrite.hostname:
            action.host_rewrite_literal = r.rewrite.hostname
        if r.rewrite.full_path is not None:
            action.regex_rewrite.CopyFrom(_full_rewrite(r.rewrite.full_path))
        elif r.rewrite.prefix is not None:
            prefix, regex = _prefix_rewrite(*r.rewrite.prefix)
            if regex is not None:
                action.regex_rewrite.CopyFrom(regex)
            elif prefix is not None and prefix != r.rewrite.prefix[0]:
                action.prefix_rewrite = prefix
    if r.mirrors:
        action.request_mirror_policies.extend(_mirror(m) for m in r.mirrors)
    # Consistent hashing needs the route to say what to hash (the first backend's policy).
    first = next((b.cluster for b in r.backends if b.cluster), None)
    if first is not None and hashing.get(first):
        action.hash_policy.extend(hashing[first])
    return action


def _retry_policy(policy: rc.RetryPolicy, retry: ir.Retry) -> None:
    """A Gateway API retry as Envoy's retry policy (per_try_timeout is the backend timeout's)."""
    on = list(retry.triggers or _RETRY_ON_CONNECTION_ERRORS)
    if retry.status_codes:
        if "retriable-status-codes" not in on:
            on.append("retriable-status-codes")
        policy.retriable_status_codes.extend(retry.status_codes)
    policy.retry_on = ",".join(on)
    policy.num_retries.value = retry.num_retries
    if retry.backoff_ms is not None:
        # Envoy's backoff is fully jittered exponential from this base (capped at 10 times it);
        # it needs a base above zero, so "0s" (retry at once) is its smallest, 1 ms.
        policy.retry_back_off.base_interval.CopyFrom(duration_ms(max(retry.backoff_ms, 1)))
        if retry.max_backoff_ms is not None:
            policy.retry_back_off.max_interval.CopyFrom(duration_ms(max(retry.max_backoff_ms, retry.backoff_ms, 1)))
    if retry.per_try_timeout_ms is not None:
        policy.per_try_timeout.CopyFrom(duration_ms(retry.per_try_timeout_ms))
    policy.retry_host_predicate.append(_PREVIOUS_HOSTS)
    policy.host_selection_retry_max_attempts = _HOST_SELECTION_ATTEMPTS


def _route_tracing(out: rc.Tracing, t: ir.RouteTracing) -> None:
    """A route's own sampling and span tags (over the connection manager's)."""
    for field, percent in (("random_sampling", t.random_percent), ("client_sampling", t.client_percent),
                           ("overall_sampling", t.overall_percent)):
        if percent is not None:
            getattr(out, field).CopyFrom(percent_pb2.FractionalPercent(
                numerator=round(percent * 10_000), denominator=percent_pb2.FractionalPercent.MILLION))
    out.custom_tags.extend(span_tag(tag) for tag in t.tags)
    out.SetInParent()


def route(r: ir.Route, hashing: HashPolicies | None = None) -> rc.Route:
    """One Envoy route."""
    out = rc.Route(name=r.name, match=route_match(r.match))
    if r.stat_name is not None:
        out.stat_prefix = r.stat_name
    set_metadata(out, (r.source,))
    if r.redirect is not None:
        out.redirect.CopyFrom(_redirect(r.redirect))
    elif r.direct_status is not None:
        out.direct_response.status = r.direct_status
    else:
        out.route.CopyFrom(_forward(r, hashing or {}))
    for name, config in per_route_configs(r):
        out.typed_per_filter_config[name].CopyFrom(to_any(config))
    _apply_headers(out, r.request_headers, r.response_headers)
    if r.tracing is not None:
        _route_tracing(out.tracing, r.tracing)
    if r.compression and "accept-encoding" not in out.request_headers_to_remove:
        # Envoy compresses: the backend must not as well (the compressor has read the header).
        out.request_headers_to_remove.append("accept-encoding")
    return out
