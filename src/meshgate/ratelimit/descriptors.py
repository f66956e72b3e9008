"""What Envoy sends the rate limit service for a route, and the limits the service holds for it.

Each rule of a route's Global rate limit becomes one Envoy route-level `rate_limits` entry (a
list of actions; Envoy builds one descriptor from them per request) and one limit in the
service, at the end of the same chain of descriptor entries. Both are derived from one plan
per rule (`rule_steps`), so the two sides cannot disagree on a key or its order.

A rule's descriptor, in order (as Envoy Gateway builds them, with the facts it relies on):

1. `generic_key` "route_rule" = "<route key>#<rule index>": always there, so every rule of every
   route has its own subtree and its own buckets (Envoy Gateway puts the route first and the rule
   later, and two rules with the same CIDR and no header collide in its tree; naming the rule
   first avoids that).
2. per header selector j, key "header-<j>":
   - Exact / RegularExpression: `header_value_match` with value "match" and `expect_match` false
     when inverted. Envoy emits the entry only when the header matches as expected, and without
     it no descriptor at all, so a request the selector rejects is not counted by that rule.
   - Distinct: `request_headers`; the value is the header's, and the service holds the key with
     an empty value (any value, each counted apart). A request without the header sends no
     descriptor for the rule (skip_if_absent is false), so it is not selected by it.
3. a source CIDR: `masked_remote_address`, which Envoy emits as the client address masked to
   the rule's prefix length, rendered "<network>/<len>". The service holds the rule's CIDR as
   value, so only clients inside it match exactly (outside, the masked value is another
   network and no limit applies). Comparing text needs care, and so:
   - the rule's CIDR is canonicalised (host bits cleared: "10.1.2.3/8" is "10.0.0.0/8"), since
     Envoy always sends the network address;
   - the service parses every incoming address value and renders it the same way as the
     config side (`canonical_entry`), so IPv6 spellings ("2001:DB8:0::/32", "2001:db8::/32")
     cannot make an in-range client miss;
   - an IPv4 rule also sets the IPv6 mask length to 96 + its length: a dual-stack listener
     sees IPv4 clients as IPv4-mapped IPv6 ("::ffff:10.1.2.3"); masked at 96+n that is
     "::ffff:10.0.0.0/104", which the service maps back to "10.0.0.0/8". A genuine IPv6 client
     masked that way is outside ::ffff:0:0/96 and never matches an IPv4 rule; an IPv6 rule keeps
     the IPv4 mask at 32, so IPv4 clients never match it.
   With `source_distinct`, a `remote_address` entry follows (the client's own address, its own
   bucket; mapped addresses counted as their IPv4 form).

The limit sits on the last entry, as envoyproxy/ratelimit looks it up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.type.matcher.v3 import regex_pb2, string_pb2
from google.protobuf import wrappers_pb2

from .. import ir
from ..naming import route_key  # noqa: F401 - re-exported: the route key is the descriptors' business too

ROUTE_RULE_KEY = "route_rule"
MATCHED = "match"  # the value of a header_value_match entry
MASKED_REMOTE_ADDRESS = "masked_remote_address"  # Envoy's fixed keys for these two actions
REMOTE_ADDRESS = "remote_address"
ANY = ""  # a service-side value that stands for any value, each counted apart

Entry = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of a rule's descriptor: the Envoy action that produces it, its key, and the value
    the service expects (ANY: whatever the request carries, each value its own bucket)."""

    action: rc.RateLimit.Action
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DescriptorLimit:
    """A limit the service holds: `requests` per `unit_s` seconds at the end of `entries`
    (key, value; value ANY for any). `name`: the rule it comes from ("<route key>#<index>")."""

    entries: tuple[Entry, ...]
    requests: int
    unit_s: int
    name: str


def rule_name(key: str, index: int) -> str:
    """The generic_key value naming rule `index` of the route `key` (the index holds no "#",
    so two (route, index) pairs never give one name)."""
    return f"{key}#{index}"


def canonical_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """`cidr` with its host bits cleared, IPv4-mapped IPv6 ranges (prefix ≥ 96) as IPv4.

    ValueError for text that is no CIDR."""
    net = ipaddress.ip_network(cidr, strict=False)
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96:
        mapped = net.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((int(mapped), net.prefixlen - 96))
    return net


def canonical_entry(key: str, value: str) -> str:
    """The value of an incoming descriptor entry as the service compares it: address values
    parsed and rendered as the config side renders them (IPv4-mapped as IPv4); anything else,
    and text that does not parse, as it came."""
    try:
        if key == MASKED_REMOTE_ADDRESS:
            return str(canonical_network(value))
        if key == REMOTE_ADDRESS:
            addr = ipaddress.ip_address(value)
            if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
                return str(addr.ipv4_mapped)
            return str(addr)
    except ValueError:
        pass
    return value


def _header_matcher(sel: ir.HeaderSelector) -> rc.HeaderMatcher:
    if sel.kind == "RegularExpression":
        matcher = string_pb2.StringMatcher(safe_regex=regex_pb2.RegexMatcher(regex=sel.value))
    else:
        matcher = string_pb2.StringMatcher(exact=sel.value)
    return rc.HeaderMatcher(name=sel.name, string_match=matcher)


def _header_step(index: int, sel: ir.HeaderSelector) -> Step:
    key = f"header-{index}"
    if sel.kind == "Distinct":
        return Step(rc.RateLimit.Action(request_headers=rc.RateLimit.Action.RequestHeaders(
            header_name=sel.name, descriptor_key=key)), key, ANY)
    return Step(rc.RateLimit.Action(header_value_match=rc.RateLimit.Action.HeaderValueMatch(
        descriptor_key=key, descriptor_value=MATCHED,
        expect_match=wrappers_pb2.BoolValue(value=not sel.invert),
        headers=[_header_matcher(sel)])), key, MATCHED)


def _cidr_steps(cidr: str, distinct: bool) -> Iterator[Step]:
    net = canonical_network(cidr)
    masked = rc.RateLimit.Action.MaskedRemoteAddress()
    if net.version == 4:
        masked.v4_prefix_mask_len.value = net.prefixlen
        masked.v6_prefix_mask_len.value = 96 + net.prefixlen  # IPv4-mapped clients of a dual-stack listener
    else:
        masked.v4_prefix_mask_len.value = 32
        masked.v6_prefix_mask_len.value = net.prefixlen
    yield Step(rc.RateLimit.Action(masked_remote_address=masked), MASKED_REMOTE_ADDRESS, str(net))
    if distinct:
        yield Step(rc.RateLimit.Action(remote_address=rc.RateLimit.Action.RemoteAddress()), REMOTE_ADDRESS, ANY)


def rule_steps(key: str, index: int, rule: ir.RateLimitRule) -> tuple[Step, ...]:
    """The descriptor entries of rule `index` of the route `key`, in order (module docstring).

    ValueError when the rule's source CIDR does not parse."""
    steps = [Step(rc.RateLimit.Action(generic_key=rc.RateLimit.Action.GenericKey(
        descriptor_key=ROUTE_RULE_KEY, descriptor_value=rule_name(key, index))), ROUTE_RULE_KEY, rule_name(key, index))]
    steps.extend(_header_step(j, sel) for j, sel in enumerate(rule.headers))
    if rule.source_cidr is not None:
        steps.extend(_cidr_steps(rule.source_cidr, rule.source_distinct))
    return tuple(steps)


def _global_rules(limit: ir.RateLimit | None) -> tuple[ir.RateLimitRule, ...]:
    # A Local rate limit is Envoy's local filter's business, not the service's.
    return limit.rules if limit is not None and limit.scope == "Global" else ()


def route_rate_limits(key: str, limit: ir.RateLimit | None) -> list[rc.RateLimit]:
    """The route's `rate_limits` (in its RateLimitPerRoute config, stage 0): one per rule of a Global
    rate limit, none otherwise. Envoy sends every rule whose selectors all match the request,
    each as its own descriptor, and the service answers OVER_LIMIT when any is over."""
    return [rc.RateLimit(actions=[s.action for s in rule_steps(key, i, rule)])
            for i, rule in enumerate(_global_rules(limit))]


def service_limits(key: str, limit: ir.RateLimit | None) -> list[DescriptorLimit]:
    """The limits the service holds for the route's `rate_limits` (route_rate_limits), same order."""
    out = []
    for i, rule in enumerate(_global_rules(limit)):
        entries = tuple((s.key, s.value) for s in rule_steps(key, i, rule))
        out.append(DescriptorLimit(entries, rule.requests, rule.unit_s, rule_name(key, i)))
    return out
