"""The cross-serving rule: an HTTPRoute and a GRPCRoute whose hostnames intersect on one listener
are not both accepted; the older keeps the listener, the other's parentRef says HostnameConflict,
and only the older one's routes are served there. Hostnames that do not meet, and listeners where
a parentRef does not conflict, are unaffected."""

from __future__ import annotations

from meshgate.discovery.index import Discovery
from meshgate.gateway.kind_conflicts import HostnameClaims, overlaps
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.resources.loader import load_text
from meshgate.resources.meta import ObjectKey
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"
BASE = """apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: meshgate}
spec: {controllerName: meshgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: a, port: 8080, protocol: HTTP, hostname: "*.a.example"}
  - {name: b, port: 8080, protocol: HTTP, hostname: "*.b.example"}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: gw}
spec: {ports: [{port: 8080}]}
"""


def _route(kind: str, name: str, created: str, hostnames: list[str], section: str | None = None) -> str:
    ref = f"{{name: web, sectionName: {section}}}" if section else "{name: web}"
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: {kind}
metadata: {{name: {name}, namespace: gw, creationTimestamp: "{created}"}}
spec:
  parentRefs: [{ref}]
  hostnames: {hostnames}
  rules: [{{backendRefs: [{{name: svc, port: 8080}}]}}]
"""


def _store(*routes: str) -> Store:
    store = Store()
    store.apply(load_text("---\n".join([BASE, *routes]), "in.yaml", NOW).objects, [])
    return store


def _accepted(out: GatewayTranslation, kind: str, name: str) -> list[tuple[str, str]]:
    (status,) = [s for s in out.status if s["kind"] == kind and s["metadata"]["name"] == name]
    return [(c["status"], c["reason"]) for p in status["status"]["parents"] for c in p["conditions"]
            if c["type"] == "Accepted"]


def _attached(out: GatewayTranslation) -> dict[str, int]:
    (gw,) = [s for s in out.status if s["kind"] == "Gateway"]
    return {ls["name"]: ls["attachedRoutes"] for ls in gw["status"]["listeners"]}


def _served_kinds(out: GatewayTranslation) -> set[str]:
    (cfg,) = out.gateways
    return {r.source.kind for rc in cfg.route_configs for vh in rc.virtual_hosts for r in vh.routes
            if r.source is not None}


def test_the_older_route_keeps_the_listener() -> None:
    store = _store(_route("HTTPRoute", "web-http", "2026-01-01T00:00:01Z", ["x.a.example"], "a"),
                   _route("GRPCRoute", "web-grpc", "2026-01-01T00:00:02Z", ["x.a.example"], "a"))
    out = translate_gateways(store, Discovery(store), NOW)
    assert _accepted(out, "HTTPRoute", "web-http") == [("True", "Accepted")]
    assert _accepted(out, "GRPCRoute", "web-grpc") == [("False", "HostnameConflict")]
    assert _attached(out) == {"a": 1, "b": 0}
    assert _served_kinds(out) == {"HTTPRoute"}


def test_a_grpc_route_older_than_the_http_route_wins() -> None:
    store = _store(_route("HTTPRoute", "web-http", "2026-01-01T00:00:02Z", ["*.a.example"]),
                   _route("GRPCRoute", "web-grpc", "2026-01-01T00:00:01Z", ["x.a.example"]))
    out = translate_gateways(store, Discovery(store), NOW)
    assert _accepted(out, "GRPCRoute", "web-grpc") == [("True", "Accepted")]
    # The wildcard meets x.a.example on listener a, and nothing of listener b: not accepted.
    assert _accepted(out, "HTTPRoute", "web-http") == [("False", "HostnameConflict")]
    assert _served_kinds(out) == {"GRPCRoute"}


def test_same_age_routes_are_ordered_by_namespace_and_name() -> None:
    store = _store(_route("GRPCRoute", "b-grpc", "2026-01-01T00:00:01Z", ["x.a.example"]),
                   _route("HTTPRoute", "a-http", "2026-01-01T00:00:01Z", ["x.a.example"]))
    out = translate_gateways(store, Discovery(store), NOW)
    assert _accepted(out, "HTTPRoute", "a-http") == [("True", "Accepted")]
    assert _accepted(out, "GRPCRoute", "b-grpc") == [("False", "HostnameConflict")]


def test_disjoint_hostnames_are_both_accepted() -> None:
    store = _store(_route("HTTPRoute", "web-http", "2026-01-01T00:00:01Z", ["x.a.example"]),
                   _route("GRPCRoute", "web-grpc", "2026-01-01T00:00:02Z", ["y.a.example"]))
    out = translate_gateways(store, Discovery(store), NOW)
    assert _accepted(out, "HTTPRoute", "web-http") == [("True", "Accepted")]
    assert _accepted(out, "GRPCRoute", "web-grpc") == [("True", "Accepted")]
    assert _served_kinds(out) == {"HTTPRoute", "GRPCRoute"}


def test_a_parent_ref_keeps_the_listeners_where_it_does_not_conflict() -> None:
    # No hostnames: the HTTPRoute takes listener a only; the GRPCRoute serves listener b.
    store = _store(_route("HTTPRoute", "web-http", "2026-01-01T00:00:01Z", [], "a"),
                   _route("GRPCRoute", "web-grpc", "2026-01-01T00:00:02Z", []))
    out = translate_gateways(store, Discovery(store), NOW)
    assert _accepted(out, "GRPCRoute", "web-grpc") == [("True", "Accepted")]
    assert _attached(out) == {"a": 1, "b": 1}


def test_routes_of_one_kind_never_conflict() -> None:
    store = _store(_route("HTTPRoute", "one", "2026-01-01T00:00:01Z", ["x.a.example"]),
                   _route("HTTPRoute", "two", "2026-01-01T00:00:02Z", ["x.a.example"]))
    out = translate_gateways(store, Discovery(store), NOW)
    assert _accepted(out, "HTTPRoute", "two") == [("True", "Accepted")]
    assert _attached(out) == {"a": 2, "b": 0}


def test_the_loser_is_accepted_once_the_older_route_goes_and_its_status_is_kept_meanwhile() -> None:
    older = _route("HTTPRoute", "web-http", "2026-01-01T00:00:01Z", ["x.a.example"])
    store = _store(older, _route("GRPCRoute", "web-grpc", "2026-01-01T00:00:02Z", ["x.a.example"]))
    table = RouteTable(store, Discovery(store))
    first = translate_gateways(store, Discovery(store), NOW, table=table)
    again = translate_gateways(store, Discovery(store), "2026-01-01T00:01:00Z", table=table)
    (s1,) = [s for s in first.status if s["kind"] == "GRPCRoute"]
    (s2,) = [s for s in again.status if s["kind"] == "GRPCRoute"]
    assert s2 is s1  # nothing moved: the same status object (no rewrite)
    store.apply([], [ObjectKey("HTTPRoute", "gw", "web-http")])
    table.invalidate(set())
    later = translate_gateways(store, Discovery(store), "2026-01-01T00:02:00Z", table=table)
    assert _accepted(later, "GRPCRoute", "web-grpc") == [("True", "Accepted")]
    (s3,) = [s for s in later.status if s["kind"] == "GRPCRoute"]
    (cond,) = [c for c in s3["status"]["parents"][0]["conditions"] if c["type"] == "Accepted"]
    assert cond["lastTransitionTime"] == "2026-01-01T00:02:00Z"
    assert _served_kinds(later) == {"GRPCRoute"}


def test_overlaps() -> None:
    assert overlaps("*", "x.example") and overlaps("x.example", "*")
    assert overlaps("*.example", "x.example") and not overlaps("x.example", "y.example")
    claims = HostnameClaims()
    claims.claim("HTTPRoute", (("gw", "web"), 0), ["*.a.example"])
    assert claims.taken("HTTPRoute", (("gw", "web"), 0), ["q.a.example"]) == "*.a.example"
    assert claims.taken("HTTPRoute", (("gw", "web"), 1), ["q.a.example"]) is None
    assert claims.taken("GRPCRoute", (("gw", "web"), 0), ["q.a.example"]) is None
