"""A route's rate limit (ir.RateLimit) as Envoy spells it.

Local: Envoy's local rate limit filter, per route. Each rule becomes one descriptor the route
generates (the per-route config's own `rate_limits`) and a token bucket for it. The descriptor's
entries are the ones the global rate limit service uses (ratelimit/descriptors.py rule_steps: the
rule's key, a header_value_match per Exact or RegularExpression header, request_headers per
Distinct header, the client address masked to the rule's CIDR, and for a Distinct CIDR the
address itself); an entry that cannot be produced (a header absent, a client outside the CIDR)
leaves the request out of that rule. Distinct values get a bucket each (Envoy's dynamic
descriptors: an empty value in the descriptor matches any value). The filter's own bucket is
unlimited: only rules limit.

Global: the rate limit filter asks meshgate's rate limit service (over the xDS cluster); the
route's per-filter config names its Gateway's domain and carries its `rate_limits`.
"""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2 as common_rl
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2 as lrl
from envoy.extensions.filters.http.ratelimit.v3 import rate_limit_pb2
from envoy.type.v3 import percent_pb2, token_bucket_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from ..ratelimit.descriptors import route_rate_limits, rule_steps
from .common import duration_ms

LOCAL_RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
_UNLIMITED = 4_294_967_295
# Buckets kept for distinct values per route (least recently used go first).
MAX_DISTINCT_BUCKETS = 10_000


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
        steps = rule_steps("", i, rule)
        out.rate_limits.append(rc.RateLimit(actions=[s.action for s in steps]))
        out.descriptors.append(common_rl.LocalRateLimitDescriptor(
            entries=[common_rl.RateLimitDescriptor.Entry(key=s.key, value=s.value) for s in steps],
            token_bucket=_bucket(rule.requests, rule.unit_s)))
    if any(r.distinct for r in rl.rules):
        out.max_dynamic_descriptors.value = MAX_DISTINCT_BUCKETS
    return out


def global_rate_limit(rl: ir.RateLimit) -> rate_limit_pb2.RateLimitPerRoute:
    """The per-route config of the rate limit filter: the Gateway's domain and the route's
    descriptors for meshgate's rate limit service."""
    return rate_limit_pb2.RateLimitPerRoute(domain=rl.domain, rate_limits=route_rate_limits(rl.key, rl))
