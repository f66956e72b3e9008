"""Client certificate validation on HTTPS listeners (Gateway spec.tls.frontend): listener status
for each kind of bad CA reference, the Envoy validation context of each mode, per-port overrides,
and the Gateway's InsecureFrontendValidationMode condition."""

from __future__ import annotations

import textwrap
from pathlib import Path

from envoy.extensions.transport_sockets.tls.v3 import common_pb2, tls_pb2

from meshgate.pipeline import Translation, translate_store
from meshgate.providers.files import FileProvider
from meshgate.resources.loader import LoadResult, load_text
from meshgate.runtime.controller import ControlPlane
from meshgate.store import Store
from meshgate.xds.cache import SnapshotCache

from .test_certificates import _pair

NOW = "2026-01-01T00:00:00Z"
CRT, KEY = _pair()
CA, _ = _pair()


def _indent(pem: bytes, spaces: int) -> str:
    return textwrap.indent(pem.decode(), " " * spaces)


BASE = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: ns}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: other}}
---
apiVersion: v1
kind: Secret
metadata: {{name: cert, namespace: ns}}
type: kubernetes.io/tls
stringData:
  tls.crt: |
{_indent(CRT, 4)}  tls.key: |
{_indent(KEY, 4)}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: ca, namespace: ns}}
data:
  ca.crt: |
{_indent(CA, 4)}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: ca, namespace: other}}
data:
  ca.crt: |
{_indent(CA, 4)}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: empty, namespace: ns}}
data: {{other: x}}
"""


def gateway(frontend: str, listeners: str = "") -> str:
    """A Gateway in ns with HTTPS listeners on 443 and 8443 (and `listeners`), under `frontend`."""
    https = "{{name: {0}, port: {1}, protocol: HTTPS, tls: {{certificateRefs: [{{name: cert}}]}}}}"
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: ns}}
spec:
  gatewayClassName: meshgate
  tls:
    frontend:
{textwrap.indent(textwrap.dedent(frontend).strip(), " " * 6)}
  listeners:
  - {https.format("https", 443)}
  - {https.format("https-alt", 8443)}
  - {{name: http, port: 80, protocol: HTTP}}
{listeners}"""


def translate(text: str) -> Translation:
    result = LoadResult()
    result.extend(load_text(BASE + text, "input.yaml", NOW))
    assert not result.errors, result.errors
    store, _ = Store.from_load(result)
    return translate_store(store, NOW)


def listener_conditions(tr: Translation) -> dict[str, dict[str, tuple[str, str]]]:
    (gw,) = [s for s in tr.status if s["kind"] == "Gateway"]
    return {ls["name"]: {c["type"]: (c["status"], c["reason"]) for c in ls["conditions"]}
            for ls in gw["status"]["listeners"]}


def tls_contexts(tr: Translation) -> dict[int, list[tls_pb2.DownstreamTlsContext]]:
    """Per port, the DownstreamTlsContext of each filter chain Envoy gets."""
    (snap,) = tr.snapshots
    out = {}
    for lst in snap.listeners:
        contexts = []
        for chain in lst.filter_chains:
            if chain.HasField("transport_socket"):
                ctx = tls_pb2.DownstreamTlsContext()
                chain.transport_socket.typed_config.Unpack(ctx)
                contexts.append(ctx)
        out[lst.address.socket_address.port_value] = contexts
    return out


def refs(*refs: str, mode: str = "") -> str:
    mode_line = f"\n    mode: {mode}" if mode else ""
    return f"""validation:{mode_line}
    caCertificateRefs: [{", ".join(refs)}]"""


def test_the_default_asks_every_https_listener_for_a_certificate_of_the_ca() -> None:
    tr = translate(gateway("default:\n  " + refs("{kind: ConfigMap, group: '', name: ca}").replace("\n", "\n  ")))
    conditions = listener_conditions(tr)
    for name in ("https", "https-alt", "http"):
        assert conditions[name]["Accepted"] == ("True", "Accepted")
        assert conditions[name]["ResolvedRefs"] == ("True", "ResolvedRefs")
    contexts = tls_contexts(tr)
    for port in (443, 8443):
        (ctx,) = contexts[port]
        assert ctx.require_client_certificate.value
        assert ctx.common_tls_context.validation_context.trusted_ca.inline_bytes == CA
        assert ctx.common_tls_context.validation_context.trust_chain_verification == \
            common_pb2.CertificateValidationContext.VERIFY_TRUST_CHAIN
    assert 80 in contexts and contexts[80] == []  # plain HTTP: no TLS at all
    (gw,) = [s for s in tr.status if s["kind"] == "Gateway"]
    assert "InsecureFrontendValidationMode" not in {c["type"] for c in gw["status"]["conditions"]}


def test_a_port_override_replaces_the_default_and_one_without_validation_turns_it_off() -> None:
    frontend = f"""
    default:
      {refs("{kind: ConfigMap, name: ca}", mode="AllowInsecureFallback").replace(chr(10), chr(10) + "      ")}
    perPort:
    - port: 8443
      tls: {{}}
    - port: 80
      tls:
        {refs("{kind: ConfigMap, name: missing}").replace(chr(10), chr(10) + "        ")}
    """
    tr = translate(gateway(frontend))
    contexts = tls_contexts(tr)
    (fallback,) = contexts[443]
    assert not fallback.require_client_certificate.value
    assert fallback.common_tls_context.validation_context.trust_chain_verification == \
        common_pb2.CertificateValidationContext.ACCEPT_UNTRUSTED
    (plain,) = contexts[8443]
    assert not plain.common_tls_context.HasField("validation_context")
    # The per-port entry for the HTTP port names a missing ConfigMap: HTTP listeners ignore it.
    assert listener_conditions(tr)["http"]["Accepted"] == ("True", "Accepted")
    (gw,) = [s for s in tr.status if s["kind"] == "Gateway"]
    insecure = {c["type"]: c for c in gw["status"]["conditions"]}["InsecureFrontendValidationMode"]
    assert (insecure["status"], insecure["reason"]) == ("True", "ConfigurationChanged")


def test_bad_references_take_down_only_the_listeners_of_their_port() -> None:
    cases = {
        "{kind: ConfigMap, name: missing}": "InvalidCACertificateRef",
        "{kind: ConfigMap, name: empty}": "InvalidCACertificateRef",  # no ca.crt
        "{kind: Secret, name: cert}": "InvalidCACertificateKind",
        "{group: example.com, kind: ConfigMap, name: ca}": "InvalidCACertificateKind",
        "{kind: ConfigMap, name: ca, namespace: other}": "RefNotPermitted",
    }
    for ref, reason in cases.items():
        frontend = f"""
        default:
          {refs("{kind: ConfigMap, name: ca}").replace(chr(10), chr(10) + "          ")}
        perPort:
        - port: 8443
          tls:
            {refs(ref).replace(chr(10), chr(10) + "            ")}
        """
        tr = translate(gateway(frontend))
        conditions = listener_conditions(tr)
        assert conditions["https-alt"]["ResolvedRefs"] == ("False", reason), ref
        assert conditions["https-alt"]["Accepted"] == ("False", "NoValidCACertificate"), ref
        assert conditions["https-alt"]["Programmed"][0] == "False", ref
        assert conditions["https"]["Programmed"] == ("True", "Programmed"), ref
        assert sorted(tls_contexts(tr)) == [80, 443], ref  # 8443 is not served


def test_a_reference_grant_allows_a_ca_in_another_namespace_and_a_valid_ca_beside_a_bad_one_serves() -> None:
    grant = """---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: cas, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: ns}]
  to: [{group: "", kind: ConfigMap}]
"""
    frontend = "default:\n  " + refs("{kind: ConfigMap, name: ca, namespace: other}",
                                     "{kind: ConfigMap, name: missing}").replace("\n", "\n  ")
    tr = translate(gateway(frontend) + grant)
    conditions = listener_conditions(tr)
    # One of two references is bad: ResolvedRefs says so, the listener serves with the good one.
    assert conditions["https"]["ResolvedRefs"] == ("False", "InvalidCACertificateRef")
    assert conditions["https"]["Accepted"] == ("True", "Accepted")
    (ctx,) = tls_contexts(tr)[443]
    assert ctx.common_tls_context.validation_context.trusted_ca.inline_bytes == CA


def test_a_configmap_no_gateway_names_costs_no_translation(tmp_path: Path) -> None:
    # meshgate's own ConfigMaps (each replica renews its proxy answers every few seconds) change
    # all the time in a cluster: only one a Gateway's validation names is worth translating for.
    frontend = "default:\n  " + refs("{kind: ConfigMap, name: late-ca}").replace("\n", "\n  ")
    (tmp_path / "gw.yaml").write_text(BASE + gateway(frontend))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), clock=lambda: NOW)
    control.load()
    (tmp_path / "other.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: answers, namespace: ns}\n"
                                         "data: {renewed: '1'}\n")
    assert control.apply(control.provider.reload(tmp_path / "other.yaml")) == "none"
    (tmp_path / "late.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late-ca, namespace: ns}\n"
                                        f"data:\n  ca.crt: |\n{_indent(CA, 4)}")
    assert control.apply(control.provider.reload(tmp_path / "late.yaml")) == "full"
    (gw,) = [s for s in control.status if s["kind"] == "Gateway"]
    https = next(ls for ls in gw["status"]["listeners"] if ls["name"] == "https")
    assert {c["type"]: c["status"] for c in https["conditions"]}["Accepted"] == "True"
