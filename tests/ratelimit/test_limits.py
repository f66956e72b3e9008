"""The service's table (ratelimit/limits.py): envoyproxy/ratelimit's lookup (key+value first,
then the key with any value; the limit of the node the last entry reaches) and buckets that keep
routes, rules and distinct values apart."""

from __future__ import annotations

from meshgate import ir
from meshgate.ratelimit.descriptors import ROUTE_RULE_KEY, route_key, rule_name
from meshgate.ratelimit.limits import Limit, LimitTable, Node, build_table

SOURCE = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "ns", "policy")
USER = ir.HeaderSelector("x-user", "Distinct")


def global_limit(*rules: ir.RateLimitRule) -> ir.RateLimit:
    return ir.RateLimit("Global", rules, SOURCE)


def hand_table() -> LimitTable:
    """key a: value "x" has its own limit, any other value another; b below a has one."""
    a_x = Node(Limit(1, 60, "a=x"))
    a_any = Node(Limit(2, 60, "a=*"), {("b", ""): Node(Limit(3, 1, "a=*,b=*"))})
    return LimitTable({"d": Node(None, {("a", "x"): a_x, ("a", ""): a_any})})


def test_exact_value_first_then_any_value() -> None:
    t = hand_table()
    assert t.lookup("d", [("a", "x")]).limit.name == "a=x"
    assert t.lookup("d", [("a", "y")]).limit.name == "a=*"
    assert t.lookup("d", [("a", "y"), ("b", "z")]).limit.name == "a=*,b=*"


def test_no_limit_off_the_tree_on_a_bare_node_or_elsewhere() -> None:
    t = hand_table()
    assert t.lookup("d", [("a", "x"), ("b", "z")]) is None  # a=x has no children
    assert t.lookup("d", [("c", "x")]) is None
    assert t.lookup("d", [("a", "y"), ("b", "z"), ("c", "w")]) is None
    assert t.lookup("other", [("a", "x")]) is None
    assert t.lookup("d", []) is None
    assert LimitTable({"d": Node(None, {("a", ""): Node()})}).lookup("d", [("a", "q")]) is None


def test_each_distinct_value_has_its_own_bucket() -> None:
    t = hand_table()
    assert t.lookup("d", [("a", "y")]).bucket != t.lookup("d", [("a", "z")]).bucket
    assert t.lookup("d", [("a", "y")]).bucket == t.lookup("d", [("a", "y")]).bucket
    # A value cannot pose as a key and value of another entry.
    assert t.lookup("d", [("a", "y"), ("b", "z")]).bucket != t.lookup("d", [("a", "y,b=z")]).bucket


def test_built_table_from_routes() -> None:
    k1, k2 = route_key("http.80", "ns/r1/rule/0/match/0"), route_key("http.80", "ns/r2/rule/0/match/0")
    t = build_table({"ns/gw": [(k1, global_limit(ir.RateLimitRule(3, 60, headers=(USER,)))),
                               (k2, global_limit(ir.RateLimitRule(3, 60, headers=(USER,)))),
                               ("none", None),
                               ("local", ir.RateLimit("Local", (ir.RateLimitRule(1, 1),), SOURCE))],
                     "ns/empty": [("x", None)]})
    assert set(t.domains) == {"ns/gw"}
    m1 = t.lookup("ns/gw", [(ROUTE_RULE_KEY, rule_name(k1, 0)), ("header-0", "alice")])
    m2 = t.lookup("ns/gw", [(ROUTE_RULE_KEY, rule_name(k2, 0)), ("header-0", "alice")])
    assert m1 is not None and m2 is not None
    assert m1.limit == Limit(3, 60, rule_name(k1, 0))
    assert m1.bucket != m2.bucket  # routes never share a bucket
    assert t.lookup("ns/gw", [(ROUTE_RULE_KEY, rule_name(k1, 0))]) is None  # no header: not selected
    assert t.lookup("ns/gw", [(ROUTE_RULE_KEY, rule_name("local", 0))]) is None


def test_two_rules_with_the_same_cidr_keep_their_limits() -> None:
    # In Envoy Gateway's tree both would be masked_remote_address=10.0.0.0/8 under the route.
    k = route_key("http.80", "r")
    t = build_table({"d": [(k, global_limit(ir.RateLimitRule(5, 1, source_cidr="10.0.0.0/8"),
                                            ir.RateLimitRule(50, 60, source_cidr="10.0.0.0/8")))]})
    entries = [("masked_remote_address", "10.0.0.0/8")]
    first = t.lookup("d", [(ROUTE_RULE_KEY, rule_name(k, 0)), *entries])
    second = t.lookup("d", [(ROUTE_RULE_KEY, rule_name(k, 1)), *entries])
    assert first is not None and second is not None
    assert (first.limit.requests, second.limit.requests) == (5, 50)
    assert first.bucket != second.bucket


def test_address_values_are_compared_canonical() -> None:
    k = "k"
    t = build_table({"d": [(k, global_limit(ir.RateLimitRule(5, 1, source_cidr="2001:db8::/32",
                                                            source_distinct=True)))]})
    a = t.lookup("d", [(ROUTE_RULE_KEY, rule_name(k, 0)), ("masked_remote_address", "2001:0db8:0::/32"),
                       ("remote_address", "2001:DB8::1")])
    b = t.lookup("d", [(ROUTE_RULE_KEY, rule_name(k, 0)), ("masked_remote_address", "2001:db8::/32"),
                       ("remote_address", "2001:db8:0::1")])
    assert a is not None and b is not None and a.bucket == b.bucket
