"""Golden cases: input YAML next to the expected `meshgate translate` output.

Two sources of cases:
- tests/golden/cases/<name>/: every *.yaml but expected.yaml is input; expected.yaml is the output.
- the upstream Gateway API conformance manifests (tests/conformance/manifests/<test>.yaml,
  copies of ../shared/gateway-api/conformance/),
  loaded with manifests.yaml and tests/golden/conformance/_base/ (EndpointSlices and TLS Secrets
  the suite would create); expected output in tests/golden/conformance/<test>.expected.yaml,
  showing the gateways and status that the test's own manifest concerns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from meshgate.cli import dump
from meshgate.discovery.locality import proxy_view
from meshgate.discovery.model import Locality
from meshgate.pipeline import Translation, translate_store
from meshgate.resources.loader import LoadResult, load_text
from meshgate.store import Store
from meshgate.xds.output import message_dict, snapshot_dict

HERE = Path(__file__).parent
REPO = HERE.parent.parent
UPSTREAM = HERE.parent / "conformance" / "manifests"  # copies of ../shared/gateway-api/conformance/
CREATED = "2026-01-01T00:00:00Z"
NOW = "2026-01-01T00:00:00Z"
IR_FILE = "expected.ir.yaml"  # the stage before xDS: what Gateway API translation and discovery decided
NOT_INPUT = ("expected.yaml", IR_FILE, "proxies.yaml", "flags.yaml")
PLACEHOLDERS = {"{GATEWAY_CLASS_NAME}": "meshgate", "{GATEWAY_CONTROLLER_NAME}": "meshgate.io/gateway-controller"}


@dataclass
class GoldenCase:
    """Inputs (display name, text) and where the expected output lives."""

    name: str
    inputs: list[tuple[str, str]]
    expected: Path
    own_files: set[str] = field(default_factory=set)  # status/errors shown only for these
    conformance: bool = False
    proxies: list[dict] = field(default_factory=list)  # per-proxy views to show (proxies.yaml)
    flags: dict = field(default_factory=dict)  # command-line switches (flags.yaml): ingressUseWaypoints
    expected_ir: Path | None = None  # the IR stage's expected output (own cases only)


def _fill(text: str) -> str:
    for k, v in PLACEHOLDERS.items():
        text = text.replace(k, v)
    return text


def own_cases() -> list[GoldenCase]:
    """Cases under tests/golden/cases/."""
    out = []
    for d in sorted(p for p in (HERE / "cases").iterdir() if p.is_dir()):
        files = sorted(f for f in d.glob("*.yaml") if f.name not in NOT_INPUT)
        inputs = [(f"{d.name}/{f.name}", f.read_text()) for f in files]
        proxies = yaml.safe_load((d / "proxies.yaml").read_text()) if (d / "proxies.yaml").exists() else []
        flags = yaml.safe_load((d / "flags.yaml").read_text()) if (d / "flags.yaml").exists() else {}
        out.append(GoldenCase(d.name, inputs, d / "expected.yaml", {n for n, _ in inputs}, proxies=proxies,
                              flags=flags, expected_ir=d / IR_FILE))
    return out


# Upstream conformance tests covered by golden files: every shipped manifest.
CONFORMANCE_TESTS = (
    "httproute-simple-same-namespace", "httproute-matching", "httproute-matching-across-routes",
    "httproute-path-match-order", "httproute-exact-path-matching", "httproute-header-matching",
    "httproute-query-param-matching", "httproute-method-matching", "httproute-hostname-intersection",
    "httproute-listener-hostname-matching", "httproute-listener-port-matching",
    "gateway-http-listener-isolation", "gateway-http-listener-isolation-with-hostname-intersection",
    "httproute-cross-namespace", "httproute-reference-grant", "httproute-invalid-reference-grant",
    "httproute-invalid-cross-namespace-backend-ref", "httproute-invalid-nonexistent-backendref",
    "httproute-invalid-backendref-unknown-kind", "httproute-partially-invalid-via-invalid-reference-grant",
    "httproute-omitted-backendrefs", "httproute-weight", "httproute-303-redirect", "httproute-307-redirect",
    "httproute-308-redirect", "httproute-redirect-host-and-status", "httproute-redirect-path",
    "httproute-redirect-port", "httproute-redirect-scheme", "httproute-redirect-port-and-scheme",
    "httproute-rewrite-host", "httproute-rewrite-path", "httproute-request-header-modifier",
    "httproute-request-header-modifier-backend-weights", "httproute-response-header-modifier",
    "httproute-request-mirror", "httproute-request-multiple-mirrors", "httproute-timeout-request",
    "httproute-timeout-backend-request", "httproute-named-rule", "httproute-https-listener",
    "httproute-multiple-gateways", "httproute-backend-protocol-h2c", "httproute-backend-protocol-websocket",
    "httproute-backend-request-redirect", "httproute-backend-url-rewrite",
    "httproute-request-header-modifier-backend", "httproute-cors",
    "httproute-https-listener-detect-misdirected-requests",
    "httproute-retry", "httproute-retry-connection-error", "httproute-retry-with-timeouts",
    "gateway-infrastructure", "gateway-invalid-parameters-ref", "gateway-optional-address-value",
    "backendtlspolicy", "backendtlspolicy-conflict-resolution", "backendtlspolicy-invalid-ca-certificate-ref",
    "backendtlspolicy-invalid-kind", "backendtlspolicy-san", "backendtlspolicy-observed-generation-bump",
    "backendtlspolicy-grpcroute",
)


def conformance_cases() -> list[GoldenCase]:
    """One case per upstream conformance manifest in CONFORMANCE_TESTS."""
    base = [("conformance/manifests.yaml", _fill((UPSTREAM / "manifests.yaml").read_text()))]
    base += [(f"_base/{f.name}", f.read_text()) for f in sorted((HERE / "conformance" / "_base").glob("*.yaml"))]
    out = []
    for test in CONFORMANCE_TESTS:
        own = f"conformance/{test}.yaml"
        inputs = base + [(own, _fill((UPSTREAM / f"{test}.yaml").read_text()))]
        out.append(GoldenCase(test, inputs, HERE / "conformance" / f"{test}.expected.yaml", {own}, True))
    return out


def load_case(case: GoldenCase) -> tuple[Store, LoadResult, list]:
    """Load a case's inputs into a store (what `meshgate translate` does, with fixed timestamps)."""
    result = LoadResult()
    for name, text in case.inputs:
        result.extend(load_text(text, name, CREATED))
    store, duplicates = Store.from_load(result)
    return store, result, duplicates


def run_case(case: GoldenCase) -> tuple[dict, Translation]:
    """The golden output of a case, and the translation it came from."""
    store, result, duplicates = load_case(case)
    tr = translate_store(store, NOW, ingress_use_waypoints=case.flags.get("ingressUseWaypoints", True))
    tr.errors = result.errors + duplicates
    own_keys = _own_objects(case, result)
    if case.conformance:
        # Show the gateways the test's manifest defines or attaches to, not the whole base.
        shown = {k[1] + "/" + k[2] for k in own_keys if k[0] == "Gateway"} | _parents(case, result)
        snaps = [s for s in tr.snapshots if s.gateway in shown]
        status = [s for s in tr.status if _status_key(s) in own_keys
                  or (s["kind"] == "Gateway" and _ns_name(s) in shown)]
    else:
        snaps, status = tr.snapshots, tr.status
    errors = [e.to_dict() for e in tr.errors if e.file in case.own_files]
    for e in errors:
        e.pop("message", None)
    out = {"gateways": [_abbreviate(snapshot_dict(s)) for s in snaps], "status": status, "errors": errors}
    infrastructure = _infrastructure(store, tr, {s.gateway for s in snaps})
    if infrastructure:
        out["infrastructure"] = infrastructure
    if case.proxies:
        out["proxies"] = [_proxy_view(store, p) for p in case.proxies]
    return out, tr


def _infrastructure(store: Store, tr: Translation, shown: set[str]) -> list[dict]:
    """The labels and annotations the IR carries for shown Gateways that set spec.infrastructure
    (what their Envoy's node metadata, or a provisioner's Deployment, gets); other Gateways carry
    only the gateway-name and gateway-class-name labels, not repeated in every expected file."""
    out = []
    for cfg in tr.configs:
        gw = store.get("Gateway", cfg.namespace, cfg.name)
        if cfg.key not in shown or gw is None or not (gw.infrastructure.labels or gw.infrastructure.annotations):
            continue
        out.append({"gateway": cfg.key, "labels": dict(cfg.infrastructure.labels),
                    "annotations": dict(cfg.infrastructure.annotations)})
    return out


def _proxy_view(store: Store, spec: dict) -> dict:
    """What one proxy (locality, labels, node name) receives: clusters and endpoints per gateway."""
    parts = (str(spec.get("locality", "")).split("/") + ["", "", ""])[:3]
    labels = {str(k): str(v) for k, v in (spec.get("labels") or {}).items()}
    view = proxy_view(Locality(*parts), labels, spec.get("nodeName", ""))
    tr = translate_store(store, NOW, proxy=view, labels=labels)
    return {
        "proxy": spec,
        "gateways": [{"gateway": s.gateway, "clusters": [message_dict(c) for c in s.clusters],
                      "endpoints": [message_dict(e) for e in s.endpoints]} for s in tr.snapshots],
    }


def _own_objects(case: GoldenCase, result: LoadResult) -> set[tuple[str, str, str]]:
    keys = {(o.kind, o.meta.namespace, o.meta.name) for o in result.objects if o.source.file in case.own_files}
    keys |= {(r.kind, r.meta.namespace, r.meta.name) for r in result.rejected if r.source.file in case.own_files}
    return keys


def _parents(case: GoldenCase, result: LoadResult) -> set[str]:
    out = set()
    for o in result.objects:
        if o.source.file in case.own_files and o.kind in ("HTTPRoute", "GRPCRoute"):
            out |= {f"{p.namespace or o.meta.namespace}/{p.name}" for p in o.parent_refs if p.kind == "Gateway"}
    return out


def _status_key(s: dict) -> tuple[str, str, str]:
    md = s["metadata"]
    return (s["kind"], md.get("namespace", ""), md["name"])


def _ns_name(s: dict) -> str:
    md = s["metadata"]
    return f"{md.get('namespace', '')}/{md['name']}"


def _abbreviate(snap: dict) -> dict:
    """Certificates are long and say nothing to a reviewer: show their size instead."""
    for s in snap["secrets"]:
        chain = s.get("tls_certificate", {}).get("certificate_chain", {})
        if "inline_bytes" in chain:
            chain["inline_bytes"] = f"<{len(chain['inline_bytes'])} base64 characters>"
    return snap


def plain(value: object) -> object:
    """IR dataclasses as plain YAML-able data: fields in declaration order, leaving out those
    at their empty value (None, False, empty), so an expected file shows what was decided."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None or v is False or v == () or v == [] or v == "":
                continue
            out[f.name] = plain(v)
        return out
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def ir_output(tr: Translation) -> dict:
    """The IR stage of a translation: each gateway's IR (listeners, route configurations,
    clusters, secrets) and, per cluster, the policy discovery decided for it (ir_clusters)."""
    assert tr.clusters is not None
    gateways = []
    for cfg in tr.configs:
        policies = {}
        for ref in cfg.clusters:
            plan = tr.clusters.plan(ref, cfg.namespace)
            policies[ref.name] = plain(plan.policy) if plan is not None else "no such port"
        gateways.append({"gateway": cfg.key, "ir": plain(cfg), "cluster_policies": policies})
    return {"gateways": gateways}


def render(out: dict) -> str:
    """The expected-file text of an output."""
    return dump(out, "yaml")


def parse(text: str) -> dict:
    return yaml.safe_load(text)
