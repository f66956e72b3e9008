"""BackendTrafficPolicy telemetry.metrics.routeStatName: the template (parsed and checked in
resources/envoy_gateway/backend_traffic_policy.py), rendered per route
(gateway/policies/backend_traffic.route_stat_name) and set as the Envoy route's stat_prefix."""

from __future__ import annotations

from meshgate import ir
from meshgate.discovery.index import Discovery
from meshgate.gateway.policies.backend_traffic import route_stat_name
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.resources.envoy_gateway.backend_traffic_policy import route_stat_name_problem
from meshgate.resources.loader import load_text
from meshgate.store import Store
from meshgate.xds.routes import route as envoy_route

NOW = "2026-01-01T00:00:00Z"
ALL = "%ROUTE_KIND%/%ROUTE_NAMESPACE%/%ROUTE_NAME%/%ROUTE_RULE_NAME%"
BASE = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: a, port: 8080, protocol: HTTP, hostname: "a.example"}
  - {name: rpc, port: 8080, protocol: HTTP, hostname: "rpc.example"}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: gw}
spec: {ports: [{port: 8080, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop.v2, namespace: gw}
spec:
  parentRefs: [{name: web, sectionName: a}]
  rules:
  - {name: first, matches: [{path: {value: /first}}], backendRefs: [{name: svc, port: 8080}]}
  - {matches: [{path: {value: /unnamed}}], backendRefs: [{name: svc, port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other, namespace: gw}
spec:
  parentRefs: [{name: web, sectionName: a}]
  rules: [{matches: [{path: {value: /other}}], backendRefs: [{name: svc, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: gw}
spec:
  parentRefs: [{name: web}]
  hostnames: [rpc.example]
  rules: [{backendRefs: [{name: svc, port: 8080}]}]
"""


def _policy(name: str, target: str, template: str) -> str:
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {{name: {name}, namespace: gw}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, {target}}}]
  telemetry: {{metrics: {{routeStatName: "{template}"}}}}
"""


def _stat_names(*policies: str) -> dict[str, str | None]:
    """Each route's path (or the gRPC route's name) → its stat_name."""
    store = Store()
    loaded = load_text("---\n".join([BASE, *policies]), "in.yaml", NOW)
    assert [e for e in loaded.errors if e.severity == "error"] == []
    store.apply(loaded.objects, [])
    out: GatewayTranslation = translate_gateways(store, Discovery(store), NOW)
    found: dict[str, str | None] = {}
    for rc in out.gateways[0].route_configs:
        for vh in rc.virtual_hosts:
            for r in vh.routes:
                if r.source is not None and r.source.kind in ("HTTPRoute", "GRPCRoute"):
                    found[r.match.path if r.source.kind == "HTTPRoute" else r.source.name] = r.stat_name
    return found


def test_operators_are_rendered_as_envoy_gateway_renders_them() -> None:
    source = ir.SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "shop", "web", "first")
    assert route_stat_name(ALL, source, "first") == "HTTPRoute/shop/web/first"
    assert route_stat_name("%ROUTE_NAME%-%ROUTE_NAME%", source, "first") == "web-web"
    assert route_stat_name("fixed", source, None) == "fixed"
    # An unnamed rule ("-"), though the source names it by its index.
    unnamed = ir.SourceRef("GRPCRoute", "gateway.networking.k8s.io/v1", "shop", "rpc", "0")
    assert route_stat_name(ALL, unnamed, None) == "GRPCRoute/shop/rpc/-"


def test_dots_become_underscores() -> None:
    source = ir.SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "shop", "web.v2", "0")
    assert route_stat_name("a.b/%ROUTE_NAME%", source, None) == "a_b/web_v2"


def test_only_the_supported_operators_are_valid() -> None:
    assert route_stat_name_problem(ALL) is None
    assert route_stat_name_problem("plain") is None
    assert "%ROUTE_RULE_NUMBER%" in (route_stat_name_problem("%ROUTE_RULE_NUMBER%") or "")
    assert "%BACKEND_REFS%" in (route_stat_name_problem("%ROUTE_NAME%%BACKEND_REFS%") or "")
    assert route_stat_name_problem("100%") is not None


def test_routes_of_the_policy_get_their_stat_name_and_others_none() -> None:
    names = _stat_names(_policy("stats", "kind: HTTPRoute, name: shop.v2", ALL))
    assert names == {"/first": "HTTPRoute/gw/shop_v2/first", "/unnamed": "HTTPRoute/gw/shop_v2/-",
                     "/other": None, "rpc": None}


def test_the_more_specific_policy_names_the_route() -> None:
    names = _stat_names(_policy("gateway-wide", "kind: Gateway, name: web", "gw/%ROUTE_KIND%/%ROUTE_NAME%"),
                        _policy("route", "kind: HTTPRoute, name: shop.v2", "route/%ROUTE_NAME%"),
                        _policy("rule", "kind: HTTPRoute, name: shop.v2, sectionName: first", "rule/%ROUTE_RULE_NAME%"))
    assert names == {"/first": "rule/first", "/unnamed": "route/shop_v2", "/other": "gw/HTTPRoute/other",
                     "rpc": "gw/GRPCRoute/rpc"}


def test_a_policy_without_it_leaves_a_route_without_statistics() -> None:
    plain = """apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: retries, namespace: gw}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]
  retry: {numRetries: 1}
"""
    assert set(_stat_names(plain).values()) == {None}


def test_the_envoy_route_has_the_stat_prefix() -> None:
    match = ir.RouteMatch("prefix", "/")
    assert envoy_route(ir.Route("r", match, direct_status=200, stat_name="HTTPRoute/gw/web/-")).stat_prefix \
        == "HTTPRoute/gw/web/-"
    assert envoy_route(ir.Route("r", match, direct_status=200)).stat_prefix == ""
