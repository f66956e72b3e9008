"""ResolvedRefs of a route attached to a waypoint's service, next to the same route's Gateway parent.

The route's first rule has two backends through a Gateway unusable (one missing, one in another
namespace without a ReferenceGrant); its second rule is fine. The condition covers every rule,
and of several failures reports the reason that comes first in REASON_ORDER (RefNotPermitted).
Through the waypoint (GAMMA) a backend in another namespace needs no ReferenceGrant (GEP-1294),
so only the missing one is reported there.
"""

from __future__ import annotations

from meshgate.pipeline import translate_store
from meshgate.resources.loader import LoadResult, load_text
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"

TEMPLATE = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/use-waypoint: wp}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: shop}
spec:
  gatewayClassName: meshgate-waypoint
  listeners:
  - {name: mesh, port: 15008, protocol: HBONE}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ingress, namespace: shop}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: shop}
spec:
  parentRefs:
  - {name: ingress}
  - {group: "", kind: Service, name: cart, port: 80}
  rules: {rules}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  clusterIP: 10.96.1.10
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: elsewhere, namespace: other}
spec:
  clusterIP: 10.96.2.10
  ports: [{name: http, port: 80}]
"""

SPLIT_RULES = """
  - matches: [{path: {type: PathPrefix, value: /broken}}]
    backendRefs:
    - {name: missing, port: 80}
    - {name: elsewhere, namespace: other, port: 80}
  - backendRefs: [{name: cart, port: 80}]"""


def _route_conditions(rules: str) -> dict[str, dict[str, dict]]:
    """The route's conditions by parentRef kind, then by condition type."""
    result = LoadResult()
    result.extend(load_text(TEMPLATE.replace("{rules}", rules), "input.yaml", NOW))
    store, _ = Store.from_load(result)
    status = translate_store(store, NOW).status
    [route] = [s for s in status if s["kind"] == "HTTPRoute" and s["metadata"]["name"] == "split"]
    return {p["parentRef"]["kind"]: {c["type"]: c for c in p["conditions"]} for p in route["status"]["parents"]}


def test_waypoint_parent_reports_every_rules_refs() -> None:
    by_parent = _route_conditions(SPLIT_RULES)
    assert set(by_parent) == {"Gateway", "Service"}
    gateway, waypoint = by_parent["Gateway"]["ResolvedRefs"], by_parent["Service"]["ResolvedRefs"]
    assert (gateway["status"], gateway["reason"]) == ("False", "RefNotPermitted")
    assert "other/elsewhere: no ReferenceGrant" in gateway["message"]
    assert (waypoint["status"], waypoint["reason"]) == ("False", "BackendNotFound")
    assert waypoint["message"] == "Service shop/missing does not exist"


def test_a_mesh_route_needs_no_reference_grant_for_another_namespace() -> None:
    """GEP-1294: a route on a Service sends to backendRefs in any namespace without a ReferenceGrant
    (MeshConsumerRoute's route, in the consumer namespace, sends to the producer's Service)."""
    by_parent = _route_conditions("""
  - backendRefs: [{name: elsewhere, namespace: other, port: 80}]""")
    assert by_parent["Service"]["ResolvedRefs"]["status"] == "True"
    assert (by_parent["Gateway"]["ResolvedRefs"]["status"], by_parent["Gateway"]["ResolvedRefs"]["reason"]) == \
        ("False", "RefNotPermitted")


def test_waypoint_parent_of_a_route_without_rules_is_reported() -> None:
    """Status comes per route, not per rule: a route with no rules still gets one."""
    by_parent = _route_conditions("[]")
    for kind in ("Gateway", "Service"):
        assert [(t, c["status"]) for t, c in by_parent[kind].items()] == [("Accepted", "True"), ("ResolvedRefs", "True")]


def test_a_grpc_route_on_a_gateway_and_a_service_gets_one_status_with_both_parents() -> None:
    """GAMMA with GRPCRoutes: the Service parent is written like an HTTPRoute's, into the route's
    one status next to its Gateway parent (not into the HTTPRoute of the same name, not apart)."""
    grpc = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: split, namespace: shop}
spec:
  parentRefs:
  - {name: ingress}
  - {group: "", kind: Service, name: cart, port: 7070}
  rules:
  - backendRefs: [{name: cart, port: 7070}, {name: missing, port: 7070, weight: 0}]
"""
    text = TEMPLATE.replace("{rules}", "[]").replace("ports: [{name: http, port: 80}]",
                                                      "ports: [{name: http, port: 80}, {name: grpc, port: 7070}]", 1)
    result = LoadResult()
    result.extend(load_text(text + grpc, "input.yaml", NOW))
    store, _ = Store.from_load(result)
    status = translate_store(store, NOW).status
    [route] = [s for s in status if s["kind"] == "GRPCRoute"]
    parents = [(p["parentRef"]["kind"], {c["type"]: (c["status"], c["reason"]) for c in p["conditions"]})
               for p in route["status"]["parents"]]
    assert [kind for kind, _ in parents] == ["Gateway", "Service"]
    assert all(conds == {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("False", "BackendNotFound")}
               for _, conds in parents)
    [http] = [s for s in status if s["kind"] == "HTTPRoute"]
    assert [p["parentRef"].get("port") for p in http["status"]["parents"]] == [None, 80]


def test_unsupported_rules_are_reported_on_the_waypoint_parent_as_on_the_gateway() -> None:
    """A rule with an unsupported filter is dropped (it answers 500) through a waypoint as through a
    Gateway: PartiallyInvalid on both parents; a route whose every rule is dropped is not accepted."""
    extension = "{type: ExtensionRef, extensionRef: {group: example.com, kind: Thing, name: x}}"
    by_parent = _route_conditions(f"""
  - matches: [{{path: {{type: PathPrefix, value: /ext}}}}]
    filters: [{extension}]
    backendRefs: [{{name: cart, port: 80}}]
  - backendRefs: [{{name: cart, port: 80}}]""")
    for kind in ("Gateway", "Service"):
        partial = by_parent[kind]["PartiallyInvalid"]
        assert (partial["status"], partial["reason"]) == ("True", "UnsupportedValue"), kind
        assert by_parent[kind]["Accepted"]["status"] == "True"
    by_parent = _route_conditions(f"""
  - filters: [{extension}]
    backendRefs: [{{name: cart, port: 80}}]""")
    for kind in ("Gateway", "Service"):
        accepted = by_parent[kind]["Accepted"]
        assert (accepted["status"], accepted["reason"]) == ("False", "UnsupportedValue"), kind
