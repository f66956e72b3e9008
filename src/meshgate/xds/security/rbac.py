"""Authorization (ir_security.Authorization) as Envoy's RBAC filter: its matcher API, whose
ordered field matchers give first-match-decides (Envoy Gateway spells its SecurityPolicy
authorization the same way); the connection manager's filter has no rules (allows everything)
and each route gives its own in RBACPerRoute."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import TypeAlias

from envoy.config.core.v3 import address_pb2
from envoy.config.rbac.v3 import rbac_pb2 as rbac_config
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.matching.common_inputs.network.v3 import network_inputs_pb2 as inputs
from envoy.extensions.matching.input_matchers.ip.v3 import ip_pb2
from envoy.extensions.matching.input_matchers.metadata.v3 import metadata_pb2
from envoy.type.matcher.v3 import http_inputs_pb2, value_pb2
from envoy.type.matcher.v3 import regex_pb2 as envoy_regex
from envoy.type.matcher.v3 import string_pb2 as envoy_string
from google.protobuf import wrappers_pb2
from google.protobuf.message import Message
from xds.core.v3 import extension_pb2
from xds.type.matcher.v3 import matcher_pb2
from xds.type.matcher.v3 import regex_pb2 as xds_regex
from xds.type.matcher.v3 import string_pb2 as xds_string

from ... import ir_security as sec
from ..common import to_any

RBAC_FILTER = "envoy.filters.http.rbac"
JWT_FILTER = "envoy.filters.http.jwt_authn"

Predicate: TypeAlias = matcher_pb2.Matcher.MatcherList.Predicate


def _ext(name: str, msg: Message) -> extension_pb2.TypedExtensionConfig:
    return extension_pb2.TypedExtensionConfig(name=name, typed_config=to_any(msg))


def _single(name: str, input_msg: Message, *, value: xds_string.StringMatcher | None = None,
            custom: extension_pb2.TypedExtensionConfig | None = None) -> Predicate:
    single = Predicate.SinglePredicate(input=_ext(name, input_msg))
    if value is not None:
        single.value_match.CopyFrom(value)
    else:
        single.custom_match.CopyFrom(custom)
    return Predicate(single_predicate=single)


def _all(preds: Sequence[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    return Predicate(and_matcher=Predicate.PredicateList(predicate=list(preds)))


def _any(preds: Sequence[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    return Predicate(or_matcher=Predicate.PredicateList(predicate=list(preds)))


def _not(pred: Predicate) -> Predicate:
    return Predicate(not_matcher=pred)


def _regex(pattern: str) -> xds_string.StringMatcher:
    return xds_string.StringMatcher(safe_regex=xds_regex.RegexMatcher(
        regex=pattern, google_re2=xds_regex.RegexMatcher.GoogleRE2()))


def _string(m: sec.StringMatch) -> xds_string.StringMatcher:
    if m.kind == "exact":
        return xds_string.StringMatcher(exact=m.value, ignore_case=m.ignore_case)
    if m.kind == "prefix":
        return xds_string.StringMatcher(prefix=m.value, ignore_case=m.ignore_case)
    if m.kind == "suffix":
        return xds_string.StringMatcher(suffix=m.value, ignore_case=m.ignore_case)
    if m.kind == "contains":
        return xds_string.StringMatcher(contains=m.value, ignore_case=m.ignore_case)
    if m.kind == "present":
        return _regex(".*")
    return _regex(m.value)


def _path(m: sec.StringMatch) -> xds_string.StringMatcher:
    """A path condition on :path, which carries the query too: the path part alone decides."""
    query = r"(\?.*)?"
    if m.kind == "prefix":
        return xds_string.StringMatcher(prefix=m.value, ignore_case=m.ignore_case)
    flags = "(?i)" if m.ignore_case else ""
    if m.kind == "exact":
        return _regex(flags + re.escape(m.value) + query)
    if m.kind == "suffix":
        return _regex(flags + r"[^?]*" + re.escape(m.value) + query)
    if m.kind == "contains":
        return _regex(flags + r"[^?]*" + re.escape(m.value) + r"[^?]*" + query)
    if m.kind == "present":
        return _regex(".*")
    return _regex(flags + "(?:" + m.value + ")" + query)


def _header(name: str, value: xds_string.StringMatcher) -> Predicate:
    return _single("header", http_inputs_pb2.HttpRequestHeaderMatchInput(header_name=name), value=value)


def _headers(conds: Sequence[sec.HeaderCondition]) -> list[Predicate]:
    out = []
    for h in conds:
        values = h.values or (sec.StringMatch("present"),)
        pred = _any([_header(h.name, _string(v)) for v in values])
        out.append(_not(pred) if h.invert else pred)
    return out


def _cidrs(cidrs: Sequence[str], direct: bool) -> Predicate:
    ranges = []
    for c in cidrs:
        net = ipaddress.ip_network(c, strict=False)
        ranges.append(address_pb2.CidrRange(address_prefix=str(net.network_address),
                                            prefix_len=wrappers_pb2.UInt32Value(value=net.prefixlen)))
    source: Message = inputs.DirectSourceIPInput() if direct else inputs.SourceIPInput()
    return _single("direct_source_ip" if direct else "source_ip", source,
                   custom=_ext("ip", ip_pb2.Ip(cidr_ranges=ranges, stat_prefix="rbac_ip")))


def _metadata(provider: str, path: Sequence[str], value: value_pb2.ValueMatcher) -> Predicate:
    segs = [inputs.DynamicMetadataInput.PathSegment(key=k) for k in (provider, *path)]
    return _single("jwt_claim", inputs.DynamicMetadataInput(filter=JWT_FILTER, path=segs),
                   custom=_ext("jwt_claim_matcher", metadata_pb2.Metadata(value=value)))


def _claim(c: sec.ClaimCondition) -> Predicate:
    preds = []
    for v in c.values:
        exact = value_pb2.ValueMatcher(string_match=envoy_string.StringMatcher(exact=v))
        match = value_pb2.ValueMatcher(list_match=value_pb2.ListMatcher(one_of=exact)) if c.list_value else exact
        preds.append(_metadata(c.provider, c.path, match))
    return _any(preds)


def _request_principal(p: str) -> Predicate:
    """Istio's `iss/sub` (the payload kept under the issuer's name; the issuer, often a URL, is
    all before the last `/`); the subject may have a `*` wildcard at either end. An issuer with a
    wildcard has to be expanded over the route's issuers before (gateway/policies/istio_security.py)."""
    iss, _, sub = p.rpartition("/")
    if not iss:  # no subject part: a token of that issuer (the metadata key cannot be empty)
        iss, sub = p, "*"

    def field(key: str, v: str) -> Predicate:
        if v == "*":
            m = envoy_string.StringMatcher(safe_regex=envoy_regex.RegexMatcher(regex=".+"))
        elif v.startswith("*"):
            m = envoy_string.StringMatcher(suffix=v[1:])
        elif v.endswith("*"):
            m = envoy_string.StringMatcher(prefix=v[:-1])
        else:
            m = envoy_string.StringMatcher(exact=v)
        return _metadata(iss, (key,), value_pb2.ValueMatcher(string_match=m))
    return _all([field("iss", iss), field("sub", sub or "*")])


def _principal(p: sec.Principal) -> list[Predicate]:
    out: list[Predicate] = []
    if p.source_cidrs:
        out.append(_cidrs(p.source_cidrs, False))
    if p.not_source_cidrs:
        out.append(_not(_cidrs(p.not_source_cidrs, False)))
    if p.direct_cidrs:
        out.append(_cidrs(p.direct_cidrs, True))
    if p.not_direct_cidrs:
        out.append(_not(_cidrs(p.not_direct_cidrs, True)))
    if p.request_principals:
        out.append(_any([_request_principal(rp) for rp in p.request_principals]))
    out.extend(_claim(c) for c in p.claims)
    out.extend(_headers(p.headers))
    out.extend(_all(preds) if (preds := _principal(q)) else _always() for q in p.all_of)
    if p.any_of:
        out.append(_any([_all(preds) if (preds := _principal(q)) else _always() for q in p.any_of]))
    return out


def _ports(ports: Sequence[int]) -> Predicate:
    return _any([_single("destination_port", inputs.DestinationPortInput(),
                         value=xds_string.StringMatcher(exact=str(p))) for p in ports])


def _permission(p: sec.Permission) -> list[Predicate]:
    out: list[Predicate] = []
    if p.paths:
        out.append(_any([_header(":path", _path(m)) for m in p.paths]))
    if p.not_paths:
        out.append(_not(_any([_header(":path", _path(m)) for m in p.not_paths])))
    if p.methods:
        out.append(_any([_header(":method", xds_string.StringMatcher(exact=m)) for m in p.methods]))
    if p.not_methods:
        out.append(_not(_any([_header(":method", xds_string.StringMatcher(exact=m)) for m in p.not_methods])))
    if p.hosts:
        out.append(_any([_header(":authority", _string(m)) for m in p.hosts]))
    if p.not_hosts:
        out.append(_not(_any([_header(":authority", _string(m)) for m in p.not_hosts])))
    if p.ports:
        out.append(_ports(p.ports))
    if p.not_ports:
        out.append(_not(_ports(p.not_ports)))
    out.extend(_headers(p.headers))
    out.extend(_all(preds) if (preds := _permission(q)) else _always() for q in p.all_of)
    return out


def _always() -> Predicate:
    """Every HTTP request: it has a method."""
    return _header(":method", _regex(".+"))


def _rule(rule: sec.AuthorizationRule) -> Predicate:
    parts: list[Predicate] = []
    if rule.principals:
        parts.append(_any([_all(preds) if (preds := _principal(p)) else _always() for p in rule.principals]))
    if rule.permissions:
        parts.append(_any([_all(preds) if (preds := _permission(p)) else _always() for p in rule.permissions]))
    return _all(parts) if parts else _always()


def _action(name: str, action: str) -> matcher_pb2.Matcher.OnMatch:
    verdict = rbac_config.RBAC.ALLOW if action == "ALLOW" else rbac_config.RBAC.DENY
    return matcher_pb2.Matcher.OnMatch(action=_ext(name, rbac_config.Action(name=name, action=verdict)))


def rules_matcher(rules: Sequence[sec.AuthorizationRule], default_action: str,
                  default_name: str = "default") -> matcher_pb2.Matcher:
    """Ordered rules as an RBAC matcher: the first matching rule's action (named after it), else
    `default_action` (named `default_name`)."""
    matcher = matcher_pb2.Matcher(on_no_match=_action(default_name, default_action))
    for rule in rules:
        matcher.matcher_list.matchers.add(predicate=_rule(rule), on_match=_action(rule.name, rule.action))
    return matcher


def rbac_config_of(auth: sec.Authorization) -> rbac_pb2.RBAC:
    """The RBAC filter config deciding as `auth` does."""
    return rbac_pb2.RBAC(matcher=rules_matcher(auth.rules, auth.default_action))


def rbac_per_route(auth: sec.Authorization) -> rbac_pb2.RBACPerRoute:
    """A route's authorization."""
    return rbac_pb2.RBACPerRoute(rbac=rbac_config_of(auth))


# The connection manager's entry: no rules, every request allowed (routes bring their own).
RBAC_ENTRY = hcm.HttpFilter(name=RBAC_FILTER, typed_config=to_any(rbac_pb2.RBAC()))
