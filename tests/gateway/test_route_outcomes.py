"""Route outcomes kept across translations follow the listeners' side of attachment: a route
that is the same object, with the same resolution, is attached anew when a Gateway, a listener or
a Namespace it is judged against changes (everything else is a replay). Its status comes with
it: the same object while the outcome holds, and lastTransitionTime kept where a condition's
status did not change."""

from __future__ import annotations

from meshgate.discovery.index import Discovery
from meshgate.gateway.route_table import RouteTable
from meshgate.gateway.translate import translate_gateways
from meshgate.incremental.reads import changed_reads
from meshgate.resources.loader import load_text
from meshgate.resources.meta import ObjectKey
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


THEN, NOW, LATER = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z", "2026-01-01T00:09:00Z"
ROUTED = """apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: meshgate}
spec: {controllerName: meshgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 8080, protocol: HTTP}]
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: ns}\nspec: {ports: [{port: 80}]}\n"


def _route(path: str) -> list:
    return load_text(f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: ns}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{matches: [{{path: {{type: PathPrefix, value: {path}}}}}], backendRefs: [{{name: b, port: 80}}]}}]
""", "r.yaml", CREATED).objects


class _Translations:
    """A store, and a route table kept across its changes as the control plane keeps it."""

    def __init__(self, objects: list) -> None:
        self.store = Store()
        self.store.apply(objects, [])
        self.discovery = Discovery(self.store)
        self.table = RouteTable(self.store, self.discovery)

    def change(self, upserts: list, deletes: list[ObjectKey]) -> None:
        keys = [ObjectKey.of(o) for o in upserts] + deletes
        olds = {k: self.store.get(k.kind, k.namespace, k.name) for k in keys}
        reads: set = set()
        for k in self.store.apply(upserts, deletes):
            reads |= changed_reads(k, olds[k], self.store.get(k.kind, k.namespace, k.name))
        self.discovery.invalidate(reads)
        self.table.invalidate(reads)

    def route_status(self, now: str) -> dict | None:
        out = translate_gateways(self.store, self.discovery, now, table=self.table)
        return next((s for s in out.status if s["kind"] == "HTTPRoute"), None)


def _times(status: dict) -> dict[str, str]:
    return {c["type"]: c["lastTransitionTime"] for c in status["status"]["parents"][0]["conditions"]}


def test_a_route_status_is_the_same_object_while_its_outcome_holds_and_keeps_times_when_it_moves() -> None:
    t = _Translations(load_text(ROUTED + "---\n" + SERVICE, "base.yaml", CREATED).objects + _route("/"))
    first = t.route_status(THEN)
    assert first is not None and t.route_status(NOW) is first  # the same dict: nothing to compare
    t.change([], [ObjectKey("Service", "ns", "b")])
    moved = t.route_status(NOW)
    assert moved is not None
    assert _times(moved) == {"Accepted": THEN, "ResolvedRefs": NOW}
    assert _times(first) == {"Accepted": THEN, "ResolvedRefs": THEN}
    # A new version of the route object is written anew, its unchanged conditions keeping their times.
    t.change(_route("/b"), [])
    edited = t.route_status(LATER)
    assert edited is not None and edited is not moved and _times(edited) == _times(moved)


def test_a_route_gone_for_a_translation_comes_back_with_new_times() -> None:
    t = _Translations(load_text(ROUTED + "---\n" + SERVICE, "base.yaml", CREATED).objects + _route("/"))
    first = t.route_status(THEN)
    t.change([], [ObjectKey("HTTPRoute", "ns", "r")])
    assert t.route_status(NOW) is None
    t.change(_route("/"), [])
    again = t.route_status(NOW)
    assert again is not None and again is not first and _times(again) == {"Accepted": NOW, "ResolvedRefs": NOW}
