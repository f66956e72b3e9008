"""Which Istio security policies a gateway enforces (gateway/policies/istio_attachment.py): an
ingress Gateway its namespace's policies that target it, select its pods or select nothing, and
the root namespace's; a waypoint only what targets it or a service it captures."""

from __future__ import annotations

from meshgate.gateway.policies.istio_attachment import enforced
from meshgate.resources.loader import load_text

POLICIES = """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: target-gw, namespace: apps}
spec: {targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}], action: DENY, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: target-other, namespace: apps}
spec: {targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: other}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: by-label, namespace: apps}
spec: {selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: gw}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: wrong-label, namespace: apps}
spec: {selector: {matchLabels: {app: reviews}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: namespace-wide, namespace: apps}
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-wide, namespace: istio-system}
spec: {action: DENY, rules: [{from: [{source: {ipBlocks: [10.0.0.0/8]}}]}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: elsewhere, namespace: other}
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: to-service, namespace: apps}
spec: {targetRefs: [{kind: Service, group: "", name: reviews}], action: DENY, rules: [{}]}
"""


def _policies() -> list:
    loaded = load_text(POLICIES, "in.yaml", "2026-01-01T00:00:00Z")
    assert [e for e in loaded.errors if e.severity == "error"] == []
    return loaded.objects


def test_an_ingress_gateway_enforces_its_own_namespace_wide_and_mesh_wide_policies() -> None:
    got = enforced(_policies(), "apps", "gw", "meshgate", {"team": "a"}, waypoint=False)
    assert sorted(p.meta.name for p in got.everywhere) == ["by-label", "mesh-wide", "namespace-wide", "target-gw"]
    assert got.by_service == {}


def test_a_waypoint_enforces_only_what_targets_it_or_its_services() -> None:
    got = enforced(_policies(), "apps", "gw", "meshgate-waypoint", {}, waypoint=True)
    assert [p.meta.name for p in got.everywhere] == ["target-gw"]
    assert {k: [p.meta.name for p in v] for k, v in got.by_service.items()} == {
        ("Service", "apps", "reviews"): ["to-service"]}
    assert [p.meta.name for p in got.for_service(("Service", "apps", "reviews"))] == ["target-gw", "to-service"]
    assert [p.meta.name for p in got.for_service(("Service", "apps", "ratings"))] == ["target-gw"]
