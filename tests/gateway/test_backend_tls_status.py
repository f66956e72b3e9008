"""BackendTLSPolicy status (gateway/backend_tls_status.py) through a whole translation: ancestors
are the Gateways whose routes use a targeted port (a sectionName narrows it to that port), and
the conditions follow the references, as upstream's conformance tests expect."""

from __future__ import annotations

from meshgate.pipeline import translate_store
from meshgate.resources.loader import load_text
from meshgate.store import Store

GATEWAYS_AND_ROUTES = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: one, namespace: app}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: two, namespace: app}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 8081, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-https, namespace: app}
spec:
  parentRefs: [{name: one}]
  rules: [{backendRefs: [{name: svc, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-http, namespace: app}
spec:
  parentRefs: [{name: two}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: app}
spec:
  ports: [{name: https, port: 443, targetPort: 8443}, {name: http, port: 80, targetPort: 8080}]
"""


def _policy(name: str, section: str = "", ca: str = "missing") -> str:
    sec = f", sectionName: {section}" if section else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: {name}, namespace: app}}
spec:
  targetRefs: [{{group: "", kind: Service, name: svc{sec}}}]
  validation: {{caCertificateRefs: [{{group: "", kind: ConfigMap, name: {ca}}}], hostname: svc.example.com}}
"""


def _statuses(*docs: str) -> dict[str, dict]:
    loaded = load_text("---\n".join((GATEWAYS_AND_ROUTES, *docs)), "test.yaml", "2026-01-01T00:00:00Z")
    assert not [e for e in loaded.errors if e.severity == "error"], loaded.errors
    store, _ = Store.from_load(loaded)
    tr = translate_store(store, "2026-01-02T00:00:00Z")
    return {s["metadata"]["name"]: s["status"] for s in tr.status if s["kind"] == "BackendTLSPolicy"}


def _ancestors(status: dict) -> list[str]:
    return [f"{a['ancestorRef']['namespace']}/{a['ancestorRef']['name']}" for a in status["ancestors"]]


def _conditions(status: dict) -> list[tuple[str, str, str]]:
    (first, *rest) = status["ancestors"]
    assert all(a["conditions"] == first["conditions"] for a in rest)  # the same for every Gateway
    assert all(a["controllerName"] == "meshgate.io/gateway-controller" for a in status["ancestors"])
    return [(c["type"], c["status"], c["reason"]) for c in first["conditions"]]


def test_ancestors_are_the_gateways_whose_routes_use_a_targeted_port() -> None:
    st = _statuses(_policy("whole"), _policy("https-only", "https"), _policy("unused", "grpc"))
    assert _ancestors(st["whole"]) == ["app/one", "app/two"]
    assert _ancestors(st["https-only"]) == ["app/one"]
    assert st["unused"] == {"ancestors": []}


def test_a_missing_ca_is_not_accepted_and_not_resolved() -> None:
    st = _statuses(_policy("p"))
    assert _conditions(st["p"]) == [("Accepted", "False", "NoValidCACertificate"),
                                    ("ResolvedRefs", "False", "InvalidCACertificateRef")]


def test_the_younger_of_two_policies_on_one_port_is_conflicted() -> None:
    st = _statuses(_policy("a", "https"), _policy("b", "https"))
    assert _conditions(st["a"])[0] == ("Accepted", "False", "NoValidCACertificate")
    assert _conditions(st["b"])[0] == ("Accepted", "False", "Conflicted")
