"""BackendTLSPolicy decisions (discovery/backend_tls.py, cluster_policy.py): which policy applies to
a Service port (sectionName before the whole Service, then the oldest, GEP-713), which ones are
Conflicted, what the CA references resolve to, and that a DestinationRule's tls wins."""

from __future__ import annotations

from pathlib import Path

from meshgate.discovery.backend_tls import (
    INVALID_KIND,
    INVALID_REF,
    conflicted,
    policy_for_port,
    resolve_ca,
)
from meshgate.discovery.cluster_policy import cluster_policy
from meshgate.discovery.model import PortModel, ServiceModel
from meshgate.resources.gateway_api.backend_tls_policy import BackendTLSPolicy
from meshgate.resources.loader import load_text
from meshgate.store import Store

PEM = (Path(__file__).parents[1] / "golden" / "testdata-tls.crt").read_text()


def _policy(name: str, target: str, created: str = "2026-01-01T00:00:00Z", refs: str = "") -> str:
    refs = refs or "[{group: '', kind: ConfigMap, name: ca}]"
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: {name}, namespace: app, creationTimestamp: "{created}"}}
spec:
  targetRefs: [{target}]
  validation: {{caCertificateRefs: {refs}, hostname: {name}.example.com}}
"""


def _load(*docs: str) -> Store:
    loaded = load_text("---\n".join(docs), "test.yaml", "2026-01-01T00:00:00Z")
    assert not [e for e in loaded.errors if e.severity == "error"], loaded.errors
    store, _ = Store.from_load(loaded)
    return store


def _policies(store: Store) -> list[BackendTLSPolicy]:
    return store.list("BackendTLSPolicy")


def test_a_policy_naming_the_port_wins_over_an_older_one_naming_the_service() -> None:
    store = _load(_policy("whole", "{group: '', kind: Service, name: svc}", "2025-01-01T00:00:00Z"),
                  _policy("port", "{group: '', kind: Service, name: svc, sectionName: https}"))
    policies = _policies(store)
    assert policy_for_port(policies, "app", "svc", "https").meta.name == "port"
    assert policy_for_port(policies, "app", "svc", "http").meta.name == "whole"
    assert policy_for_port(policies, "other", "svc", "https") is None  # a policy's own namespace only
    assert conflicted(policies) == {}  # different targets: both accepted


def test_of_two_policies_on_one_target_the_older_wins_then_the_first_by_name() -> None:
    store = _load(_policy("b", "{group: '', kind: Service, name: svc}", "2025-01-01T00:00:00Z"),
                  _policy("a", "{group: '', kind: Service, name: svc}"),
                  _policy("c", "{group: '', kind: Service, name: svc}"))
    policies = _policies(store)
    assert policy_for_port(policies, "app", "svc", "https").meta.name == "b"
    assert {k: v.meta.name for k, v in conflicted(policies).items()} == {("app", "a"): "b", ("app", "c"): "b"}


def test_targets_of_other_kinds_are_ignored() -> None:
    store = _load(_policy("p", "{group: networking.istio.io, kind: ServiceEntry, name: svc}"))
    assert policy_for_port(_policies(store), "app", "svc", "https") is None


def test_ca_references_resolve_only_to_pem_in_ca_crt_of_a_configmap_or_secret() -> None:
    indented = "".join(f"    {line}\n" for line in PEM.splitlines())
    store = _load(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ca, namespace: app}}\ndata:\n  ca.crt: |\n{indented}",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: empty, namespace: app}\ndata: {ca.crt: ''}\n",
                  f"apiVersion: v1\nkind: Secret\nmetadata: {{name: sec, namespace: app}}\nstringData:\n  ca.crt: |\n{indented}",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: junk, namespace: app}\ndata: {ca.crt: junk}\n",
                  _policy("p", "{group: '', kind: Service, name: svc}", refs=(
                      "[{group: '', kind: ConfigMap, name: ca}, {group: '', kind: Secret, name: sec},"
                      " {group: '', kind: ConfigMap, name: empty}, {group: '', kind: ConfigMap, name: gone},"
                      " {group: '', kind: ConfigMap, name: junk}, {group: example.com, kind: Bundle, name: x}]")))
    (policy,) = _policies(store)
    bundle = resolve_ca("app", policy.ca_certificate_refs, lambda ns, n: store.get("Secret", ns, n),
                        lambda ns, n: store.get("ConfigMap", ns, n))
    assert bundle.pem == PEM.encode() * 2  # the ConfigMap's and the Secret's
    assert [(p.reason, p.message) for p in bundle.problems] == [
        (INVALID_REF, "ConfigMap app/empty has no ca.crt"),
        (INVALID_REF, "ConfigMap app/gone not found"),
        (INVALID_REF, "ConfigMap app/junk: ca.crt is not PEM-encoded certificates"),
        (INVALID_KIND, 'caCertificateRefs kind example.com/Bundle is not supported: use a ConfigMap or a Secret (group "")'),
    ]
    assert not bundle.usable  # one bad reference is enough for connections to fail


def test_the_policy_sets_sni_and_sans_and_a_destination_rule_tls_wins() -> None:
    store = _load(_policy("p", "{group: '', kind: Service, name: svc}"),
                  """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc, namespace: app}
spec: {host: svc, trafficPolicy: {tls: {mode: SIMPLE, sni: rule.example.com}}}
""")
    (policy,) = _policies(store)
    port = PortModel("https", 443, 8443, "TCP")
    service = ServiceModel("Service", "app", "svc", ("svc.app.svc.cluster.local",), (), (port,))
    alone = cluster_policy(None, port, service, policy)
    assert alone.tls is not None and alone.tls.sni == "p.example.com"
    assert alone.tls.subject_alt_names == ("p.example.com",) and alone.tls.trust_required
    assert [s.kind for s in alone.sources] == ["BackendTLSPolicy"]
    (rule,) = store.list("DestinationRule")
    both = cluster_policy(rule, port, service, policy)
    assert both.tls is not None and both.tls.sni == "rule.example.com" and not both.tls.trust_required
    assert [s.kind for s in both.sources] == ["DestinationRule"]


def test_a_port_that_leaves_its_http_version_open_negotiates_it_by_alpn() -> None:
    store = _load(_policy("p", "{group: '', kind: Service, name: svc}"))
    (policy,) = _policies(store)

    def decided(name: str, app_protocol: str | None = None) -> tuple[bool, bool, tuple[str, ...]]:
        port = PortModel(name, 443, 8443, "TCP", app_protocol)
        service = ServiceModel("Service", "app", "svc", ("svc.app.svc.cluster.local",), (), (port,))
        out = cluster_policy(None, port, service, policy)
        assert out.tls is not None
        return out.http2, out.auto_http, out.tls.alpn

    assert decided("btls") == (False, True, ("h2", "http/1.1"))
    assert decided("web", "https") == (False, True, ("h2", "http/1.1"))
    assert decided("grpc") == (True, False, ("h2",))
    assert decided("http") == (False, False, ())  # declared HTTP/1.1: no ALPN offered
    assert decided("web", "kubernetes.io/ws") == (False, False, ())
