"""A Gateway's backend client certificate (spec.tls.backend.clientCertificateRef,
gateway/backend_client_tls.py) through a whole translation: the Gateway's ResolvedRefs condition
for each kind of bad reference (Accepted untouched), the certificate served over SDS and named in
the TLS context of the clusters a BackendTLSPolicy re-encrypts to, for that Gateway only."""

from __future__ import annotations

from pathlib import Path

import pytest
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2

from meshgate.pipeline import Translation, translate_store
from meshgate.resources.loader import load_text
from meshgate.store import Store

GOLDEN = Path(__file__).parents[1] / "golden"
CERT = (GOLDEN / "testdata-tls.crt").read_text()
KEY = (GOLDEN / "testdata-tls.key").read_text()


def _indent(pem: str) -> str:
    return "".join(f"    {line}\n" for line in pem.splitlines())


def _secret(name: str, namespace: str = "app", valid: bool = True) -> str:
    if not valid:  # upstream's malformed-client-certificate: no tls.crt, no tls.key
        return f"apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata: {{name: {name}, namespace: {namespace}}}\ndata: {{}}\n"
    return (f"apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
            f"stringData:\n  tls.crt: |\n{_indent(CERT)}  tls.key: |\n{_indent(KEY)}")


def _gateway(name: str, ref: str | None, port: int = 8080) -> str:
    tls = f"  tls: {{backend: {{clientCertificateRef: {ref}}}}}\n" if ref is not None else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: app}}
spec:
  gatewayClassName: meshgate
  listeners: [{{name: http, port: {port}, protocol: HTTP}}]
{tls}"""


def _route(gateway: str, port: int = 443) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: to-{gateway}, namespace: app}}
spec:
  parentRefs: [{{name: {gateway}}}]
  rules: [{{backendRefs: [{{name: svc, port: {port}}}]}}]
"""


BACKEND = f"""apiVersion: v1
kind: Service
metadata: {{name: svc, namespace: app}}
spec:
  ports: [{{name: https, port: 443, targetPort: 8443}}, {{name: http, port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: ca, namespace: app}}
data:
  ca.crt: |
{_indent(CERT)}---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: tls, namespace: app}}
spec:
  targetRefs: [{{group: '', kind: Service, name: svc, sectionName: https}}]
  validation: {{caCertificateRefs: [{{group: '', kind: ConfigMap, name: ca}}], hostname: svc.example.com}}
"""


def _translate(*docs: str) -> Translation:
    loaded = load_text("---\n".join(docs), "test.yaml", "2026-01-01T00:00:00Z")
    assert not [e for e in loaded.errors if e.severity == "error"], loaded.errors
    store, _ = Store.from_load(loaded)
    return translate_store(store, "2026-01-01T00:00:00Z")


def _conditions(tr: Translation, gateway: str) -> dict[str, tuple[str, str]]:
    status = next(s for s in tr.status if s["kind"] == "Gateway" and s["metadata"]["name"] == gateway)
    return {c["type"]: (c["status"], c["reason"]) for c in status["status"]["conditions"]}


def _presented(tr: Translation, gateway: str, cluster: str) -> list[str] | None:
    """The SDS names of the certificates the cluster presents upstream; None when it is plain."""
    snap = next(s for s in tr.snapshots if s.gateway == f"app/{gateway}")
    found = next(c for c in snap.clusters if c.name == cluster)
    if not found.transport_socket.name:
        return None
    ctx = tls_pb2.UpstreamTlsContext()
    found.transport_socket.typed_config.Unpack(ctx)
    return [s.name for s in ctx.common_tls_context.tls_certificate_sds_secret_configs]


HTTPS = "outbound|443||svc.app.svc.cluster.local"
HTTP = "outbound|80||svc.app.svc.cluster.local"


def test_the_certificate_is_presented_on_the_policys_tls_by_its_gateway_only() -> None:
    tr = _translate(BACKEND, _secret("client"), _gateway("with", "{name: client}"), _route("with"),
                    _gateway("without", None, 8081), _route("without"),
                    _gateway("plain", "{name: client}", 8082), _route("plain", 80))
    assert _conditions(tr, "with")["ResolvedRefs"] == ("True", "ResolvedRefs")
    assert _presented(tr, "with", HTTPS) == ["client/app/client"]
    assert [s.name for s in next(s for s in tr.snapshots if s.gateway == "app/with").secrets] == ["client/app/client"]
    # The same cluster for a Gateway of the namespace without spec.tls.backend: no certificate.
    assert _presented(tr, "without", HTTPS) == []
    assert "ResolvedRefs" not in _conditions(tr, "without")
    # A port no policy targets stays plain: the certificate makes no TLS of its own.
    assert _presented(tr, "plain", HTTP) is None


@pytest.mark.parametrize(("ref", "extra", "reason"), [
    ("{name: gone}", "", "InvalidClientCertificateRef"),
    ("{group: wrong.group.company.io, kind: Secret, name: client}", "", "InvalidClientCertificateRef"),
    ("{kind: WrongKind, name: client}", "", "InvalidClientCertificateRef"),
    ("{name: malformed}", _secret("malformed", valid=False), "InvalidClientCertificateRef"),
    ("{name: client, namespace: other}", _secret("client", "other"), "RefNotPermitted"),
])
def test_a_reference_that_does_not_resolve_is_resolved_refs_false_and_presents_nothing(
        ref: str, extra: str, reason: str) -> None:
    docs = [BACKEND, _secret("client"), _gateway("gw", ref), _route("gw")] + ([extra] if extra else [])
    tr = _translate(*docs)
    conditions = _conditions(tr, "gw")
    assert conditions["ResolvedRefs"] == ("False", reason)
    assert conditions["Accepted"] == ("True", "Accepted")
    assert conditions["Programmed"] == ("True", "Programmed")
    assert _presented(tr, "gw", HTTPS) == []  # still TLS, with no client certificate


def test_a_reference_grant_permits_a_secret_of_another_namespace() -> None:
    grant = """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: gateways, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: app}]
  to: [{group: '', kind: Secret, name: client}]
"""
    tr = _translate(BACKEND, _secret("client", "other"), grant, _gateway("gw", "{name: client, namespace: other}"),
                    _route("gw"))
    assert _conditions(tr, "gw")["ResolvedRefs"] == ("True", "ResolvedRefs")
    assert _presented(tr, "gw", HTTPS) == ["client/other/client"]


def test_a_listener_reference_that_does_not_resolve_is_summarized() -> None:
    gateway = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: app}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: https, port: 8443, protocol: HTTPS, tls: {certificateRefs: [{name: missing}]}}
  tls: {backend: {clientCertificateRef: {name: client}}}
"""
    tr = _translate(BACKEND, _secret("client"), gateway, _route("gw"))
    assert _conditions(tr, "gw")["ResolvedRefs"] == ("False", "ListenersNotResolved")
    assert _presented(tr, "gw", HTTPS) == ["client/app/client"]
