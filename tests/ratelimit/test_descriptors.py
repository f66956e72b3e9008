"""The route's Envoy rate_limits and the service's limits for them (ratelimit/descriptors.py):
one rate_limits entry per rule, entries in the documented order, and CIDR values that match
exactly the clients inside the rule's range, however Envoy spells the masked address."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshgate import ir
from meshgate.ratelimit.descriptors import (
    ANY,
    MASKED_REMOTE_ADDRESS,
    REMOTE_ADDRESS,
    ROUTE_RULE_KEY,
    canonical_entry,
    canonical_network,
    route_key,
    route_rate_limits,
    rule_name,
    service_limits,
)
from meshgate.ratelimit.limits import build_table

SOURCE = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "ns", "policy")


def limit(*rules: ir.RateLimitRule, scope: str = "Global") -> ir.RateLimit:
    return ir.RateLimit(scope, rules, SOURCE)


def envoy_masked(client: str, v4_len: int, v6_len: int) -> str:
    """What Envoy's masked_remote_address action sends for a client: the address masked to the
    length of its family, "<network>/<len>" (the address text as Envoy renders it)."""
    addr = ipaddress.ip_address(client)
    length = v4_len if addr.version == 4 else v6_len
    return str(ipaddress.ip_network(f"{client}/{length}", strict=False))


def test_one_rate_limit_per_rule_with_actions_in_order() -> None:
    rules = (
        ir.RateLimitRule(10, 60, headers=(ir.HeaderSelector("x-user", "Distinct"),
                                          ir.HeaderSelector("x-tier", "Exact", "free"),
                                          ir.HeaderSelector("x-bot", "RegularExpression", "bot.*", invert=True))),
        ir.RateLimitRule(5, 1, source_cidr="10.0.0.0/8", source_distinct=True),
        ir.RateLimitRule(100, 3600),
    )
    out = route_rate_limits("rc|r", limit(*rules))
    assert len(out) == 3
    kinds = [[a.WhichOneof("action_specifier") for a in r.actions] for r in out]
    assert kinds == [
        ["generic_key", "request_headers", "header_value_match", "header_value_match"],
        ["generic_key", "masked_remote_address", "remote_address"],
        ["generic_key"],
    ]
    first = out[0].actions
    assert (first[0].generic_key.descriptor_key, first[0].generic_key.descriptor_value) == (ROUTE_RULE_KEY, "rc|r#0")
    assert (first[1].request_headers.header_name, first[1].request_headers.descriptor_key) == ("x-user", "header-0")
    assert not first[1].request_headers.skip_if_absent  # no header: the rule does not select the request
    exact, regex = first[2].header_value_match, first[3].header_value_match
    assert exact.expect_match.value is True and exact.headers[0].string_match.exact == "free"
    assert regex.expect_match.value is False and regex.headers[0].string_match.safe_regex.regex == "bot.*"
    assert out[2].actions[0].generic_key.descriptor_value == "rc|r#2"


def test_service_limits_follow_the_same_entries() -> None:
    rule = ir.RateLimitRule(10, 60, headers=(ir.HeaderSelector("x-user", "Distinct"),
                                             ir.HeaderSelector("x-tier", "Exact", "free")),
                            source_cidr="10.1.2.3/16", source_distinct=True)
    (dl,) = service_limits("rc|r", limit(rule))
    assert dl.entries == ((ROUTE_RULE_KEY, "rc|r#0"), ("header-0", ANY), ("header-1", "match"),
                          (MASKED_REMOTE_ADDRESS, "10.1.0.0/16"), (REMOTE_ADDRESS, ANY))
    assert (dl.requests, dl.unit_s, dl.name) == (10, 60, "rc|r#0")


def test_local_rate_limits_and_none_give_nothing() -> None:
    assert route_rate_limits("k", limit(ir.RateLimitRule(1, 1), scope="Local")) == []
    assert service_limits("k", limit(ir.RateLimitRule(1, 1), scope="Local")) == []
    assert route_rate_limits("k", None) == [] and service_limits("k", None) == []


def test_masks_cover_ipv4_mapped_clients_of_an_ipv4_rule() -> None:
    (rl,) = route_rate_limits("k", limit(ir.RateLimitRule(1, 1, source_cidr="192.168.7.9/16")))
    masked = rl.actions[1].masked_remote_address
    assert (masked.v4_prefix_mask_len.value, masked.v6_prefix_mask_len.value) == (16, 112)
    (rl6,) = route_rate_limits("k", limit(ir.RateLimitRule(1, 1, source_cidr="2001:DB8::1/32")))
    masked6 = rl6.actions[1].masked_remote_address
    assert (masked6.v4_prefix_mask_len.value, masked6.v6_prefix_mask_len.value) == (32, 32)
    assert service_limits("k", limit(ir.RateLimitRule(1, 1, source_cidr="2001:DB8::1/32")))[0].entries[1] == (
        MASKED_REMOTE_ADDRESS, "2001:db8::/32")


def test_canonical_forms() -> None:
    assert str(canonical_network("10.1.2.3/8")) == "10.0.0.0/8"
    assert str(canonical_network("::ffff:10.0.0.0/104")) == "10.0.0.0/8"
    assert canonical_entry(MASKED_REMOTE_ADDRESS, "2001:0DB8:0000::/32") == "2001:db8::/32"
    assert canonical_entry(MASKED_REMOTE_ADDRESS, "::ffff:10.0.0.0/104") == "10.0.0.0/8"
    assert canonical_entry(REMOTE_ADDRESS, "::ffff:10.1.2.3") == "10.1.2.3"
    assert canonical_entry(REMOTE_ADDRESS, "not an address") == "not an address"
    assert canonical_entry("header-0", "::ffff:10.1.2.3") == "::ffff:10.1.2.3"  # only address keys


def test_rule_names_never_collide() -> None:
    assert route_key("http.80", "ns/r/rule/0/match/0") == "http.80|ns/r/rule/0/match/0"
    names = {rule_name(route_key(rc, r), i) for rc in ("a", "a#1") for r in ("x", "x#0") for i in range(3)}
    assert len(names) == 12


def _matched(cidr: str, client: str) -> bool:
    """Whether a request from `client` falls under the rule with source `cidr`, end to end:
    Envoy's masked value for the rule's masks, looked up in the service's table."""
    rule = ir.RateLimitRule(1, 1, source_cidr=cidr)
    (rl,) = route_rate_limits("k", limit(rule))
    masked = rl.actions[1].masked_remote_address
    value = envoy_masked(client, masked.v4_prefix_mask_len.value, masked.v6_prefix_mask_len.value)
    table = build_table({"d": [("k", limit(rule))]})
    return table.lookup("d", [(ROUTE_RULE_KEY, rule_name("k", 0)), (MASKED_REMOTE_ADDRESS, value)]) is not None


@pytest.mark.parametrize(("cidr", "client", "inside"), [
    ("10.0.0.0/8", "10.200.3.4", True),
    ("10.0.0.0/8", "11.0.0.1", False),
    ("10.9.9.9/8", "10.0.0.1", True),  # host bits in the rule's CIDR
    ("10.0.0.0/8", "::ffff:10.1.2.3", True),  # dual-stack listener: IPv4-mapped client
    ("10.0.0.0/8", "::ffff:11.1.2.3", False),
    ("10.0.0.0/8", "2001:db8::1", False),
    ("0.0.0.0/0", "203.0.113.9", True),
    ("0.0.0.0/0", "2001:db8::1", False),
    ("2001:db8::/32", "2001:db8:0:1::5", True),
    ("2001:db8::/32", "2001:db9::5", False),
    ("2001:db8::/32", "10.0.0.1", False),
    ("::/0", "10.0.0.1", False),
])
def test_cidr_selects_exactly_the_clients_inside(cidr: str, client: str, inside: bool) -> None:
    assert _matched(cidr, client) is inside


@given(st.ip_addresses(v=4), st.integers(0, 32), st.ip_addresses(v=4), st.booleans())
def test_cidr_match_is_containment_ipv4(net_addr, length: int, client, mapped: bool) -> None:
    cidr = f"{net_addr}/{length}"
    shown = f"::ffff:{client}" if mapped else str(client)
    assert _matched(cidr, shown) is (client in ipaddress.ip_network(cidr, strict=False))


@given(st.ip_addresses(v=6), st.integers(0, 128), st.ip_addresses(v=6))
def test_cidr_match_is_containment_ipv6(net_addr, length: int, client) -> None:
    net = canonical_network(f"{net_addr}/{length}")
    expected = client in ipaddress.ip_network(f"{net_addr}/{length}", strict=False)
    if net.version == 4:  # an IPv4-mapped range: its clients come as IPv4-mapped addresses too
        expected = client.ipv4_mapped is not None and client.ipv4_mapped in net
    assert _matched(f"{net_addr}/{length}", str(client)) is expected
