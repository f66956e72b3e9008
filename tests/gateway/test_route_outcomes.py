"""Route outcomes kept across translations follow the listeners' side of attachment: a route
that is the same object, with the same resolution, is attached anew when a Gateway, a listener or
a Namespace it is judged against changes (everything else is a replay)."""

from __future__ import annotations

from meshgate.discovery.index import Discovery
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import translate_gateways
from meshgate.resources.loader import load_text
from meshgate.store import Store

CREATED = "2026-01-01T00:00:00Z"
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
  - {name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: web, namespace: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
"""


def _namespace(labels: str) -> list:
    return load_text(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: app, labels: {labels}}}\n",
                     "ns.yaml", CREATED).objects


def _accepted(store: Store, table: RouteTable) -> tuple[str, str]:
    out = translate_gateways(store, Discovery(store), CREATED, table=table)
    (route,) = [s for s in out.status if s["kind"] == "HTTPRoute"]
    (accepted,) = [c for c in route["status"]["parents"][0]["conditions"] if c["type"] == "Accepted"]
    return accepted["status"], accepted["reason"]


def test_a_namespace_label_alone_moves_a_kept_route_outcome() -> None:
    store = Store()
    store.apply(load_text(BASE, "base.yaml", CREATED).objects + _namespace("{team: b}"), [])
    table = RouteTable(store, Discovery(store))
    assert _accepted(store, table) == ("False", "NotAllowedByListeners")
    assert _accepted(store, table) == ("False", "NotAllowedByListeners")  # kept
    store.apply(_namespace("{team: a}"), [])  # the route and its resolution are untouched
    assert _accepted(store, table) == ("True", "Accepted")
    store.apply(_namespace("{}"), [])
    assert _accepted(store, table) == ("False", "NotAllowedByListeners")
