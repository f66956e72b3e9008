"""A BackendTrafficPolicy's cluster settings over a DestinationRule's (ClusterPolicy.with_traffic):
field by field, on a cluster of the policy's own; the shared cluster of the port keeps the rule's."""

from __future__ import annotations

from google.protobuf.json_format import MessageToDict

from meshgate.pipeline import translate_store
from meshgate.resources.loader import load_text
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"
INPUT = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: checked, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {value: /c}}], backendRefs: [{name: svc, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {value: /p}}], backendRefs: [{name: svc, port: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec: {ports: [{port: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc, namespace: ns}
spec:
  host: svc.ns.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool: {tcp: {maxConnections: 7}}
    outlierDetection: {consecutive5xxErrors: 2}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: hc, namespace: ns}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: checked}]
  healthCheck:
    active: {type: GRPC, grpc: {service: health}}
    panicThreshold: 30
  circuitBreaker: {maxPendingRequests: 3}
"""


def _clusters() -> dict[str, dict]:
    store = Store()
    loaded = load_text(INPUT, "in.yaml", NOW)
    assert [e for e in loaded.errors if e.severity == "error"] == []
    store.apply(loaded.objects, [])
    out = translate_store(store, NOW)
    return {c.name: MessageToDict(c, preserving_proto_field_name=True) for c in out.snapshots[0].clusters}


def test_the_policy_cluster_has_the_rules_settings_with_the_policys_over_them() -> None:
    clusters = _clusters()
    policy = clusters["outbound|8080|policy.ns.hc|svc.ns.svc.cluster.local"]
    shared = clusters["outbound|8080||svc.ns.svc.cluster.local"]
    assert policy["lb_policy"] == shared["lb_policy"] == "LEAST_REQUEST"
    assert policy["outlier_detection"] == shared["outlier_detection"]
    assert policy["circuit_breakers"]["thresholds"] == [{"max_connections": 7, "max_pending_requests": 3}]
    assert shared["circuit_breakers"]["thresholds"] == [{"max_connections": 7}]
    assert policy["health_checks"][0]["grpc_health_check"] == {
        "service_name": "health", "authority": "svc.ns.svc.cluster.local"}
    assert "health_checks" not in shared
    assert policy["common_lb_config"]["healthy_panic_threshold"] == {"value": 30.0}
    assert shared["common_lb_config"]["healthy_panic_threshold"] == {}
    sources = [(r["kind"], r["name"]) for r in policy["metadata"]["filter_metadata"]["meshgate"]["resources"]]
    assert ("BackendTrafficPolicy", "hc") in sources and ("DestinationRule", "svc") in sources
