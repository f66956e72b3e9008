"""Lean xDS metadata (issue 14 §7): a Cluster names what made it, never the routes using it.

Its bytes do not grow with the routes that send to it, a route added to a Service already in
use leaves the Service's Cluster as it was, and `meshgate explain cluster` finds the routes
from the config instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from google.protobuf import json_format, struct_pb2

from meshgate.cli import main
from meshgate.ir import SourceRef
from meshgate.pipeline import Translation, translate_store
from meshgate.resources.loader import load_text
from meshgate.store import Store
from meshgate.xds.metadata import FILTER, metadata

NOW = "2026-01-01T00:00:00Z"
CASES = Path(__file__).resolve().parents[1] / "golden" / "cases"
API = "outbound|80||api.shop.svc.cluster.local"
GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: meshgate
  listeners: [{name: web, port: 8080, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  ports: [{name: http, port: 80, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-1
  namespace: shop
  labels: {kubernetes.io/service-name: api}
addressType: IPv4
ports: [{name: http, port: 9000, protocol: TCP}]
endpoints:
- {addresses: [127.0.4.1], targetRef: {kind: Pod, namespace: shop, name: api-abcde}}
"""


def route(i: int) -> str:
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r{i}, namespace: shop}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /p{i}}}}}]
    backendRefs: [{{name: api, port: 80}}]
"""


def translate(text: str) -> Translation:
    loaded = load_text(text, "input.yaml", NOW)
    assert not [e for e in loaded.errors if e.severity == "error"], loaded.errors
    store, _ = Store.from_load(loaded)
    return translate_store(store, NOW)


def api_cluster(tr: Translation) -> bytes:
    (snap,) = tr.snapshots
    (c,) = [c for c in snap.clusters if c.name == API]
    return c.SerializeToString(deterministic=True)


def resources(msg) -> list[dict]:
    return json_format.MessageToDict(msg.metadata.filter_metadata[FILTER])["resources"]


def test_a_route_added_to_a_service_in_use_leaves_its_cluster_bytes_unchanged() -> None:
    one = translate(GATEWAY + route(0))
    two = translate(GATEWAY + route(0) + route(1))
    assert api_cluster(two) == api_cluster(one)
    # Each Envoy route still names the rule that made it.
    names = {r["name"] for vh in two.snapshots[0].routes[0].virtual_hosts for rt in vh.routes for r in resources(rt)}
    assert names == {"r0", "r1"}


def test_a_cluster_does_not_grow_with_the_routes_using_it() -> None:
    few = translate(GATEWAY + route(0))
    many = translate(GATEWAY + "".join(route(i) for i in range(200)))
    assert len(api_cluster(many)) == len(api_cluster(few))
    (c,) = [c for c in many.snapshots[0].clusters if c.name == API]
    assert resources(c) == [{"kind": "Service", "groupVersion": "v1", "namespace": "shop", "name": "api"}]


def test_the_cluster_names_its_destination_rule() -> None:
    rule = """---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api-policy, namespace: shop, annotations: {metadata.meshgate.io/team: core}}
spec:
  host: api.shop.svc.cluster.local
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
"""
    (c,) = [c for c in translate(GATEWAY + route(0) + rule).snapshots[0].clusters if c.name == API]
    assert resources(c) == [
        {"kind": "DestinationRule", "groupVersion": "networking.istio.io/v1", "namespace": "shop",
         "name": "api-policy", "annotations": {"team": "core"}},
        {"kind": "Service", "groupVersion": "v1", "namespace": "shop", "name": "api"},
    ]


def test_translation_keeps_no_built_messages_once_the_snapshots_hold_them() -> None:
    tr = translate(GATEWAY + route(0))
    assert tr.clusters is not None
    (snap,) = tr.snapshots
    plan = tr.clusters.plan(next(r for r in tr.configs[0].clusters if r.name == API), "shop")
    assert plan is not None
    _, cla = tr.clusters.build(plan)
    # Built afresh: a one-pass builder lets go of what the snapshot serves (it would otherwise
    # live on until the builder goes).
    assert cla is not snap.endpoint_resources[0]
    assert cla == snap.endpoint_resources[0]


def test_metadata_filled_field_by_field_equals_struct_update() -> None:
    refs = [SourceRef("HTTPRoute", "gateway.networking.k8s.io/v1", "shop", "b", "rule-1", (("team", "x"), ("a", "1"))),
            SourceRef("Service", "v1", "shop", "a"), None, SourceRef("Service", "v1", "shop", "a")]
    md = metadata(refs)
    assert md is not None
    expected = struct_pb2.Struct()
    expected.update({"resources": [
        {"kind": "HTTPRoute", "groupVersion": "gateway.networking.k8s.io/v1", "namespace": "shop", "name": "b",
         "sectionName": "rule-1", "annotations": {"team": "x", "a": "1"}},
        {"kind": "Service", "groupVersion": "v1", "namespace": "shop", "name": "a"}]})
    assert md.filter_metadata[FILTER] == expected
    assert metadata([None]) is None


def test_explain_cluster_lists_the_routes_that_use_it() -> None:
    result = CliRunner().invoke(main, ["explain", "cluster", str(CASES / "metadata-sources" / "input.yaml"),
                                       "--gateway", "shop/gw", "--cluster", "outbound|80||catalog.shop.svc.cluster.local",
                                       "-o", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["sources"] == ["Service shop/catalog", "DestinationRule shop/catalog"]
    assert [(u["kind"], u["namespace"], u["name"], u["section_name"]) for u in out["users"]] == [
        ("HTTPRoute", "shop", "search", "0"), ("HTTPRoute", "shop", "storefront", "split")]
    assert all(u["envoy_name"] for u in out["users"])
    table = CliRunner().invoke(main, ["explain", "cluster", str(CASES / "metadata-sources" / "input.yaml"),
                                      "--gateway", "shop/gw", "--cluster", "outbound|80||catalog.shop.svc.cluster.local"])
    assert table.exit_code == 0 and "used by 2 route rule(s)" in table.stdout and "storefront" in table.stdout


def test_explain_cluster_of_an_unknown_cluster_says_which_exist() -> None:
    result = CliRunner().invoke(main, ["explain", "cluster", str(CASES / "metadata-sources" / "input.yaml"),
                                       "--gateway", "shop/gw", "--cluster", "outbound|80||nope"])
    assert result.exit_code == 2 and "its clusters:" in result.output


def test_explain_cluster_of_a_udproute_weighted_cluster_and_of_its_backends() -> None:
    case = str(CASES / "udp-weighted-backends" / "input.yaml")
    result = CliRunner().invoke(main, ["explain", "cluster", case, "--gateway", "infra/gw",
                                       "--cluster", "meshgate|udproute|infra|weighted", "-o", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["sources"][0] == "UDPRoute infra/weighted"
    assert "Service infra/v1" in out["sources"] and "Service infra/v2" in out["sources"]
    assert {(u["kind"], u["name"]) for u in out["users"]} >= {("UDPRoute", "weighted")}
    # A backend's own cluster names the UDPRoute chain that sends to it through the weighted one.
    backend = CliRunner().invoke(main, ["explain", "cluster", case, "--gateway", "infra/gw",
                                        "--cluster", "outbound|53||v1.infra.svc.cluster.local", "-o", "json"])
    assert backend.exit_code == 0, backend.output
    assert ("UDPRoute", "weighted") in {(u["kind"], u["name"]) for u in json.loads(backend.stdout)["users"]}
    # Its endpoints are its backends': explained there.
    endpoints = CliRunner().invoke(main, ["explain", "endpoints", case, "--gateway", "infra/gw",
                                          "--cluster", "meshgate|udproute|infra|weighted"])
    assert endpoints.exit_code == 2 and "outbound|53||v1.infra.svc.cluster.local" in endpoints.output


def test_explain_cluster_lists_the_tcp_and_tls_routes_that_use_it() -> None:
    case = str(CASES / "stream-routes" / "input.yaml")
    for cluster, kind, name in [("outbound|3000||tcp-a.infra.svc.cluster.local", "TCPRoute", "tcp-older"),
                                ("outbound|443||tls-backend.infra.svc.cluster.local", "TLSRoute", "passthrough")]:
        result = CliRunner().invoke(main, ["explain", "cluster", case, "--gateway", "infra/gw", "--cluster", cluster,
                                           "-o", "json"])
        assert result.exit_code == 0, result.output
        assert (kind, name) in {(u["kind"], u["name"]) for u in json.loads(result.stdout)["users"]}, result.stdout
