"""The rate limit service's table from translated gateways (limits.gateway_limits): Global rate
limits only, by domain and route key, a route served twice counted once."""

from __future__ import annotations

from meshgate import ir
from meshgate.ratelimit.limits import gateway_limits

SOURCE = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "ns", "p")
RULE = ir.RateLimitRule(3, 60)


def _route(name: str, rl: ir.RateLimit | None) -> ir.Route:
    return ir.Route(name, ir.RouteMatch("prefix", "/"), rate_limit=rl)


def test_global_limits_by_domain_and_key() -> None:
    a = ir.RateLimit("Global", (RULE,), SOURCE, "ns/gw", "http.80|a")
    b = ir.RateLimit("Global", (RULE,), SOURCE, "ns/other", "http.80|b")
    local = ir.RateLimit("Local", (RULE,), SOURCE)
    vh1 = ir.VirtualHost("one", ("one.example",), (_route("a", a), _route("l", local), _route("n", None)))
    vh2 = ir.VirtualHost("two", ("two.example",), (_route("a", a),))
    cfg = ir.GatewayConfig("ns", "gw", (), (ir.RouteConfig("http.80", (vh1, vh2)),), (), ())
    other = ir.GatewayConfig("ns", "other", (), (ir.RouteConfig("http.80", (ir.VirtualHost(
        "x", ("x",), (_route("b", b),)),)),), (), ())
    assert gateway_limits([cfg, other]) == {"ns/gw": [("http.80|a", a)], "ns/other": [("http.80|b", b)]}
    assert gateway_limits([]) == {}
