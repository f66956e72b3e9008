"""Which ClientTrafficPolicy a Gateway listener gets (gateway/policies/client_traffic.py): its
listener's over its Gateway's, the older of two on one target, HTTP listeners sharing a port;
listener-wide settings when the port's listeners differ; CA references; and the status each
policy gets (Accepted, Conflicted, Overridden, Invalid)."""

from __future__ import annotations

import base64
from pathlib import Path

from meshgate import ir
from meshgate.discovery.index import Discovery
from meshgate.gateway.translate import GatewayTranslation, translate_gateways
from meshgate.resources.loader import load_text
from meshgate.store import Store

NOW = "2026-01-01T00:00:00Z"
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
BASE = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: a, port: 8080, protocol: HTTP, hostname: "a.example"}
  - {name: b, port: 8080, protocol: HTTP, hostname: "b.example"}
  - {name: solo, port: 9090, protocol: HTTP}
  - {name: s1, port: 8443, protocol: HTTPS, hostname: "s1.example", tls: {certificateRefs: [{name: cert}]}}
  - {name: s2, port: 8443, protocol: HTTPS, hostname: "s2.example", tls: {certificateRefs: [{name: cert}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: gw}
type: kubernetes.io/tls
data: {tls.crt: CERT, tls.key: KEY}
"""


def _base() -> str:
    crt = base64.b64encode((GOLDEN / "testdata-tls.crt").read_bytes()).decode()
    key = base64.b64encode((GOLDEN / "testdata-tls.key").read_bytes()).decode()
    return BASE.replace("CERT", crt).replace("KEY", key)


def _policy(name: str, spec: str, section: str = "", created: str = NOW) -> str:
    target = "{group: gateway.networking.k8s.io, kind: Gateway, name: web" + (f", sectionName: {section}" if section else "") + "}"
    return f"""apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {{name: {name}, namespace: gw, creationTimestamp: "{created}"}}
spec:
  targetRefs: [{target}]
  {spec}
"""


def _translate(*docs: str) -> GatewayTranslation:
    store = Store()
    loaded = load_text("---\n".join([_base(), *docs]), "in.yaml", NOW)
    assert [e for e in loaded.errors if e.severity == "error"] == []
    store.apply(loaded.objects, [])
    return translate_gateways(store, Discovery(store), NOW)


def _listeners(out: GatewayTranslation) -> dict[int, ir.Listener]:
    return {lst.port: lst for lst in out.gateways[0].listeners}


def _chains(out: GatewayTranslation) -> dict[str, ir.FilterChain]:
    """Each chain by the Gateway listeners it serves ("a,b" for the shared HTTP chain)."""
    return {",".join(s.section_name or "" for s in c.sources if s.kind == "Gateway"): c
            for lst in out.gateways[0].listeners for c in lst.filter_chains}


def _conditions(out: GatewayTranslation, name: str) -> dict[str, list[tuple[str, str, str]]]:
    """The policy's conditions per ancestor (sectionName, or "" for the Gateway)."""
    (status,) = [s for s in out.status if s["kind"] == "ClientTrafficPolicy" and s["metadata"]["name"] == name]
    return {a["ancestorRef"].get("sectionName", ""): [(c["type"], c["status"], c["reason"]) for c in a["conditions"]]
            for a in status["status"]["ancestors"]}


def test_gateway_policy_reaches_every_listener() -> None:
    out = _translate(_policy("all", "connection: {connectionLimit: {value: 7}, bufferLimit: 1Ki}"))
    for chain in _chains(out).values():
        assert chain.client is not None and chain.client.connection_limit == 7
        assert chain.client.source is not None and chain.client.source.name == "all"
    assert {lst.buffer_limit_bytes for lst in _listeners(out).values()} == {1024}
    assert _conditions(out, "all") == {"": [("Accepted", "True", "Accepted")]}


def test_listener_policy_overrides_the_gateway_policy_there() -> None:
    out = _translate(_policy("all", "connection: {connectionLimit: {value: 7}}"),
                     _policy("one", "connection: {connectionLimit: {value: 1}}", section="s1"))
    chains = _chains(out)
    assert chains["s1"].client is not None and chains["s1"].client.connection_limit == 1
    assert chains["s2"].client is not None and chains["s2"].client.connection_limit == 7
    assert _conditions(out, "one") == {"s1": [("Accepted", "True", "Accepted")]}
    assert _conditions(out, "all") == {"": [("Accepted", "True", "Accepted"), ("Overridden", "True", "Overridden")]}
    (status,) = [s for s in out.status if s["metadata"]["name"] == "all"]
    assert "[s1]" in status["status"]["ancestors"][0]["conditions"][1]["message"]


def test_older_policy_wins_the_same_target() -> None:
    out = _translate(_policy("young", "connection: {connectionLimit: {value: 1}}", created="2026-03-01T00:00:00Z"),
                     _policy("old", "connection: {connectionLimit: {value: 2}}", created="2026-02-01T00:00:00Z"))
    assert {c.client.connection_limit for c in _chains(out).values() if c.client} == {2}
    assert _conditions(out, "young") == {"": [("Accepted", "False", "Conflicted")]}
    assert _conditions(out, "old") == {"": [("Accepted", "True", "Accepted")]}


def test_listener_of_a_shared_http_port_is_not_a_target() -> None:
    """a and b share port 8080's chain: a policy naming a alone would change b; not accepted."""
    out = _translate(_policy("all", "connection: {connectionLimit: {value: 7}}"),
                     _policy("only-a", "connection: {connectionLimit: {value: 1}}", section="a"),
                     _policy("solo", "connection: {connectionLimit: {value: 3}}", section="solo"))
    chains = _chains(out)
    assert chains["a,b"].client is not None and chains["a,b"].client.connection_limit == 7
    assert chains["solo"].client is not None and chains["solo"].client.connection_limit == 3
    assert _conditions(out, "only-a") == {"a": [("Accepted", "False", "Invalid")]}
    assert _conditions(out, "solo") == {"solo": [("Accepted", "True", "Accepted")]}


def test_listener_wide_settings_need_one_policy_per_port() -> None:
    """s1 and s2 share port 8443 with different policies: their chain settings apply, the
    PROXY protocol and buffer limit (per port) do not, with a warning; port 9090 has one policy."""
    out = _translate(_policy("all", "proxyProtocol: {}"),
                     _policy("one", "connection: {connectionLimit: {value: 1}, bufferLimit: 2Ki}", section="s1"))
    listeners = _listeners(out)
    assert listeners[9090].proxy_protocol and listeners[8080].proxy_protocol
    assert not listeners[8443].proxy_protocol and listeners[8443].buffer_limit_bytes is None
    assert _chains(out)["s1"].client.connection_limit == 1  # type: ignore[union-attr]
    warned = {(p.name, p.severity) for p in out.problems if "per port" in p.reason}
    assert warned == {("all", "warning"), ("one", "warning")}


def test_client_validation_from_a_config_map_and_a_missing_one() -> None:
    ca = (GOLDEN / "testdata-tls.crt").read_text()
    config_map = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: gw}\ndata:\n  ca.crt: |\n"
                  + "".join(f"    {line}\n" for line in ca.strip().splitlines()))
    out = _translate(config_map,
                     _policy("good", "tls: {clientValidation: {caCertificateRefs: [{kind: ConfigMap, name: ca}]}}",
                             section="s1"),
                     _policy("bad", "tls: {clientValidation: {caCertificateRefs: [{kind: Secret, name: nope}]}}",
                             section="s2"))
    chains = _chains(out)
    validation = chains["s1"].client_validation
    assert validation is not None and validation.ca.startswith(b"-----BEGIN CERTIFICATE-----")
    assert not validation.optional and not validation.insecure_fallback
    assert chains["s2"].client is None and chains["s2"].client_validation is None  # not applied
    assert _conditions(out, "bad") == {"s2": [("Accepted", "False", "Invalid")]}


def test_targets_of_another_gateway_or_missing_listener() -> None:
    out = _translate(_policy("ghost", "connection: {connectionLimit: {value: 1}}", section="nope"))
    assert all(c.client is None for c in _chains(out).values())
    assert any(p.name == "ghost" and "no listener named nope" in p.reason for p in out.problems)


def test_a_ca_in_another_namespace_needs_a_reference_grant() -> None:
    ca = base64.b64encode((GOLDEN / "testdata-tls.crt").read_bytes()).decode()
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: ca, namespace: pki}}\ndata: {{ca.crt: {ca}}}\n"
    policy = _policy("grant", "tls: {clientValidation: {caCertificateRefs: [{kind: Secret, name: ca, namespace: pki}]}}",
                     section="s1")
    out = _translate(secret, policy)
    assert _chains(out)["s1"].client_validation is None
    assert _conditions(out, "grant") == {"s1": [("Accepted", "False", "Invalid")]}
    (status,) = [s for s in out.status if s["metadata"]["name"] == "grant"]
    assert "no ReferenceGrant in pki" in status["status"]["ancestors"][0]["conditions"][0]["message"]

    grant = """apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: clients, namespace: pki}
spec:
  from: [{group: gateway.envoyproxy.io, kind: ClientTrafficPolicy, namespace: gw}]
  to: [{group: "", kind: Secret}]
"""
    out = _translate(secret, policy, grant)
    validation = _chains(out)["s1"].client_validation
    assert validation is not None and b"BEGIN CERTIFICATE" in validation.ca
    assert _conditions(out, "grant") == {"s1": [("Accepted", "True", "Accepted")]}


def test_listener_set_listeners_get_the_gateway_policy() -> None:
    """A ListenerSet's listener (on its own port here) gets the Gateway's policy."""
    listener_set = """apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: team, namespace: gw}
spec:
  parentRef: {name: web}
  listeners:
  - {name: extra, port: 7070, protocol: HTTP}
"""
    base = _base().replace("  gatewayClassName: meshgate\n",
                           "  gatewayClassName: meshgate\n  allowedListeners: {namespaces: {from: Same}}\n", 1)
    store = Store()
    loaded = load_text("---\n".join([base, listener_set, _policy("all", "connection: {connectionLimit: {value: 7}}")]),
                       "in.yaml", NOW)
    assert [e for e in loaded.errors if e.severity == "error"] == []
    store.apply(loaded.objects, [])
    out = translate_gateways(store, Discovery(store), NOW)
    (chain,) = _listeners(out)[7070].filter_chains
    assert [s.kind for s in chain.sources] == ["ListenerSet"]
    assert chain.client is not None and chain.client.connection_limit == 7
