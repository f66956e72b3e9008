"""A route's local rate limit (ir.RateLimit, scope Local) as Envoy's local rate limit filter.

Each rule becomes one descriptor the route generates (its own `rate_limits` in the per-route
config) and a token bucket for it: a generic key naming the rule, a header_value_match entry per
Exact or RegularExpression header (inverted: must not match), a request_headers entry per
Distinct header, the client address masked to the rule's CIDR (the descriptor names the CIDR, so
only clients inside it produce it) and, for a Distinct CIDR, the client address itself. An entry
that cannot be produced (a header absent, a client outside the CIDR) leaves the request out of that
rule. Distinct values get a bucket each (Envoy's dynamic descriptors: an empty value in the
descriptor matches any value). The filter's own bucket is unlimited: only rules limit.
"""

from __future__ import annotations

import ipaddress

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2 as common_rl
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2 as lrl
from envoy.type.matcher.v3 import regex_pb2, string_pb2
from envoy.type.v3 import percent_pb2, token_bucket_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from .common import duration_ms

LOCAL_RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
_UNLIMITED = 4_294_967_295
# Buckets kept for distinct values per route (least recently used go first).
MAX_DISTINCT_BUCKETS = 10_000
_ACTION = rc.RateLimit.Action


def _header_matcher(h: ir.HeaderSelector) -> rc.HeaderMatcher:
    if h.kind == "RegularExpression":
        return rc.HeaderMatcher(name=h.name, string_match=string_pb2.StringMatcher(
            safe_regex=regex_pb2.RegexMatcher(regex=h.value)))
    return rc.HeaderMatcher(name=h.name, string_match=string_pb2.StringMatcher(exact=h.value))


def rule_descriptor(index: int, rule: ir.RateLimitRule) -> tuple[rc.RateLimit, list[common_rl.RateLimitDescriptor.Entry]]:
    """The actions that make rule `index`'s descriptor, and the descriptor's entries (an empty
    value: any value, each its own bucket)."""
    entry = common_rl.RateLimitDescriptor.Entry
    key = f"rule-{index}"
    actions = [_ACTION(generic_key=_ACTION.GenericKey(descriptor_key="rule", descriptor_value=key))]
    entries = [entry(key="rule", value=key)]
    for j, h in enumerate(rule.headers):
        hkey = f"{key}-header-{j}"
        if h.kind == "Distinct":
            actions.append(_ACTION(request_headers=_ACTION.RequestHeaders(header_name=h.name, descriptor_key=hkey)))
            entries.append(entry(key=hkey, value=""))
        else:
            match = _ACTION.HeaderValueMatch(descriptor_key=hkey, descriptor_value="match",
                                             headers=[_header_matcher(h)])
            match.expect_match.value = not h.invert
            actions.append(_ACTION(header_value_match=match))
            entries.append(entry(key=hkey, value="match"))
    if rule.source_cidr is not None:
        net = ipaddress.ip_network(rule.source_cidr)
        masked = _ACTION.MaskedRemoteAddress()
        if net.version == 4:
            masked.v4_prefix_mask_len.value = net.prefixlen
            masked.v6_prefix_mask_len.value = 0  # an IPv6 client is never inside an IPv4 range
        else:
            masked.v6_prefix_mask_len.value = net.prefixlen
            masked.v4_prefix_mask_len.value = 0
        actions.append(_ACTION(masked_remote_address=masked))
        entries.append(entry(key="masked_remote_address", value=str(net)))
        if rule.source_distinct:
            actions.append(_ACTION(remote_address=_ACTION.RemoteAddress()))
            entries.append(entry(key="remote_address", value=""))
    return rc.RateLimit(actions=actions), entries


def _bucket(requests: int, unit_s: int) -> token_bucket_pb2.TokenBucket:
    return token_bucket_pb2.TokenBucket(max_tokens=requests, tokens_per_fill=wrappers_pb2.UInt32Value(value=requests),
                                        fill_interval=duration_ms(unit_s * 1000))


def _always(runtime_key: str) -> base_pb2.RuntimeFractionalPercent:
    return base_pb2.RuntimeFractionalPercent(default_value=percent_pb2.FractionalPercent(
        numerator=100, denominator=percent_pb2.FractionalPercent.HUNDRED), runtime_key=runtime_key)


def local_rate_limit(rl: ir.RateLimit) -> lrl.LocalRateLimit:
    """The per-route config of Envoy's local rate limit filter for a route's rules."""
    out = lrl.LocalRateLimit(stat_prefix="http_local_rate_limit",
                             token_bucket=_bucket(_UNLIMITED, 1),
                             filter_enabled=_always("local_rate_limit_enabled"),
                             filter_enforced=_always("local_rate_limit_enforced"),
                             enable_x_ratelimit_headers=common_rl.DRAFT_VERSION_03)
    for i, rule in enumerate(rl.rules):
        limit, entries = rule_descriptor(i, rule)
        out.rate_limits.append(limit)
        out.descriptors.append(common_rl.LocalRateLimitDescriptor(
            entries=entries, token_bucket=_bucket(rule.requests, rule.unit_s)))
    if any(r.distinct for r in rl.rules):
        out.max_dynamic_descriptors.value = MAX_DISTINCT_BUCKETS
    return out
