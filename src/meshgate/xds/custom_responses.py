"""Responses replaced by status code (a BackendTrafficPolicy's responseOverride): Envoy's
custom_response filter, as Envoy Gateway configures it, with one difference: the rules travel
in each route's per-route config (the filter's own type) instead of a filter per policy, so the
connection manager carries one disabled filter whatever the policies.

A rule matches the response's status code (one code exactly, several or ranges as an RE2
alternation of the codes, where Envoy Gateway builds a CEL expression), and answers with a local
response (its status, Content-Type, literal body and headers) or a redirect; the first matching
rule wins.
"""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.filters.http.custom_response.v3 import custom_response_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.http.custom_response.local_response_policy.v3 import local_response_policy_pb2
from envoy.extensions.http.custom_response.redirect_policy.v3 import redirect_policy_pb2
from envoy.type.matcher.v3 import status_code_input_pb2
from google.protobuf import wrappers_pb2
from xds.core.v3 import extension_pb2 as xds_extension_pb2
from xds.type.matcher.v3 import matcher_pb2, regex_pb2, string_pb2

from .. import ir
from .common import to_any

CUSTOM_RESPONSE_FILTER = "envoy.filters.http.custom_response"
# On the connection manager, disabled and without rules: each route turns it on with its own.
CUSTOM_RESPONSE_ENTRY = hcm.HttpFilter(name=CUSTOM_RESPONSE_FILTER, disabled=True,
                                       typed_config=to_any(custom_response_pb2.CustomResponse()))
_STATUS_INPUT = xds_extension_pb2.TypedExtensionConfig(
    name="http-response-status-code-match-input",
    typed_config=to_any(status_code_input_pb2.HttpResponseStatusCodeMatchInput()))
_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_APPEND = base_pb2.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD


def _codes(codes: tuple[tuple[int, int], ...]) -> string_pb2.StringMatcher:
    values = sorted({c for start, end in codes for c in range(start, end + 1)})
    if len(values) == 1:
        return string_pb2.StringMatcher(exact=str(values[0]))
    return string_pb2.StringMatcher(safe_regex=regex_pb2.RegexMatcher(
        google_re2=regex_pb2.RegexMatcher.GoogleRE2(), regex="|".join(map(str, values))))


def _header(name: str, value: str, overwrite: bool) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=name, value=value),
                                      append_action=_OVERWRITE if overwrite else _APPEND)


def _action(o: ir.ResponseOverride) -> local_response_policy_pb2.LocalResponsePolicy | redirect_policy_pb2.RedirectPolicy:
    if o.redirect is not None:
        r = o.redirect
        action = rc.RedirectAction(host_redirect=r.hostname or "", port_redirect=r.port or 0)
        if r.scheme is not None:
            action.scheme_redirect = r.scheme
        if r.path is not None:
            action.path_redirect = r.path
        return redirect_policy_pb2.RedirectPolicy(redirect_action=action,
                                                  status_code=wrappers_pb2.UInt32Value(value=r.status))
    local = local_response_policy_pb2.LocalResponsePolicy()
    if o.body is not None:
        local.body.inline_string = o.body  # literal: no substitution operators
    if o.status is not None:
        local.status_code.value = o.status
    if o.content_type is not None:
        local.response_headers_to_add.append(_header("content-type", o.content_type, True))
    local.response_headers_to_add.extend(_header(*h) for h in o.headers)
    return local


def custom_response(overrides: tuple[ir.ResponseOverride, ...]) -> custom_response_pb2.CustomResponse:
    """A route's rules: the first whose codes match the response replaces it."""
    matchers = []
    for i, o in enumerate(overrides):
        matchers.append(matcher_pb2.Matcher.MatcherList.FieldMatcher(
            predicate=matcher_pb2.Matcher.MatcherList.Predicate(
                single_predicate=matcher_pb2.Matcher.MatcherList.Predicate.SinglePredicate(
                    input=_STATUS_INPUT, value_match=_codes(o.codes))),
            on_match=matcher_pb2.Matcher.OnMatch(action=xds_extension_pb2.TypedExtensionConfig(
                name=f"response-override-{i}", typed_config=to_any(_action(o))))))
    return custom_response_pb2.CustomResponse(custom_response_matcher=matcher_pb2.Matcher(
        matcher_list=matcher_pb2.Matcher.MatcherList(matchers=matchers)))
