"""A Passthrough TLSRoute never gets a BackendTLSPolicy's TLS (gateway/passthrough_clusters.py):
its chain sends to a cluster of its own without the policy's TLS (re-encrypting would wrap the
client's TLS in TLS again), while an HTTPRoute and a Terminate TLSRoute to the same port keep the
shared, re-encrypting cluster; without a policy nothing changes."""

from __future__ import annotations

from meshgate.pipeline import Translation

from .test_backend_client_tls import BACKEND, _secret, _translate

SHARED = "outbound|443||svc.app.svc.cluster.local"
PASSTHROUGH = "outbound|443|tls-passthrough|svc.app.svc.cluster.local"

GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: app}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: pass, port: 8443, protocol: TLS, hostname: pass.example.com, tls: {mode: Passthrough}}
  - {name: end, port: 8443, protocol: TLS, hostname: end.example.com, tls: {certificateRefs: [{name: cert}]}}
"""


def _tls_route(name: str, listener: str, hostname: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: {name}, namespace: app}}
spec:
  parentRefs: [{{name: gw, sectionName: {listener}}}]
  hostnames: [{hostname}]
  rules: [{{backendRefs: [{{name: svc, port: 443}}]}}]
"""


HTTP_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: app}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules: [{backendRefs: [{name: svc, port: 443}]}]
"""
ROUTES = (_tls_route("pass", "pass", "pass.example.com"), _tls_route("end", "end", "end.example.com"), HTTP_ROUTE)


def _chain_clusters(tr: Translation) -> dict[str, list[str | None]]:
    """Each TLS chain's backends' clusters, by the route it serves (the IR's chain name's end)."""
    cfg = next(c for c in tr.configs if c.key == "app/gw")
    return {chain.name.rsplit("/", 1)[-1]: [b.cluster for b in chain.tcp_backends or ()]
            for lst in cfg.listeners if lst.protocol == "TLS" for chain in lst.filter_chains}


def _tls_clusters(tr: Translation) -> dict[str, bool]:
    """The gateway's clusters, and whether each originates TLS."""
    snap = next(s for s in tr.snapshots if s.gateway == "app/gw")
    return {c.name: bool(c.transport_socket.name) for c in snap.clusters}


def test_a_passthrough_route_to_a_policy_port_gets_a_cluster_without_the_policys_tls() -> None:
    tr = _translate(BACKEND, _secret("cert"), GATEWAY, *ROUTES)
    assert _chain_clusters(tr) == {"pass": [PASSTHROUGH], "end": [SHARED]}
    assert _tls_clusters(tr) == {SHARED: True, PASSTHROUGH: False}


def test_without_a_policy_every_route_shares_the_one_plain_cluster() -> None:
    backend = BACKEND.split("---\napiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy")[0]
    tr = _translate(backend, _secret("cert"), GATEWAY, *ROUTES)
    assert _chain_clusters(tr) == {"pass": [SHARED], "end": [SHARED]}
    assert _tls_clusters(tr) == {SHARED: False}


def test_a_gateway_reaching_the_port_only_by_passthrough_is_no_ancestor_of_the_policy() -> None:
    tr = _translate(BACKEND, _secret("cert"), GATEWAY, ROUTES[0])
    assert _tls_clusters(tr) == {PASSTHROUGH: False}
    policy = next(s for s in tr.status if s["kind"] == "BackendTLSPolicy")
    assert policy["status"]["ancestors"] == []
