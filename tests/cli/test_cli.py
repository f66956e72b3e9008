"""`meshgate translate` and `meshgate status` as users run them (ARCHITECTURE §6)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from meshgate.cli import main

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
TLS_SECRETS = REPO / "tests" / "golden" / "conformance" / "_base" / "tls-secrets.yaml"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `meshgate` entry point in a subprocess."""
    exe = Path(sys.executable).parent / "meshgate"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def test_translate_json_shape_on_quickstart() -> None:
    proc = run_cli("translate", str(QUICKSTART))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"gateways", "status", "errors"}
    (gw,) = out["gateways"]
    assert gw["gateway"] == "quickstart/web"
    assert set(gw) == {"gateway", "listeners", "routes", "clusters", "endpoints", "secrets"}
    # Proto field names, as in Envoy's docs.
    assert gw["listeners"][0]["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 18080}
    clusters = {c["name"] for c in gw["clusters"]}
    assert clusters == {"outbound|80||api.quickstart.svc.cluster.local", "outbound|80||web.quickstart.svc.cluster.local"}
    ends = {e["cluster_name"]: e for e in gw["endpoints"]}
    api = ends["outbound|80||api.quickstart.svc.cluster.local"]
    addrs = sorted(lb["endpoint"]["address"]["socket_address"]["address"]
                   for loc in api["endpoints"] for lb in loc["lb_endpoints"])
    assert addrs == ["127.0.0.11", "127.0.0.12"]
    kinds = sorted((s["kind"], s["metadata"]["name"]) for s in out["status"])
    assert kinds == [("Gateway", "web"), ("HTTPRoute", "api"), ("HTTPRoute", "web")]
    assert out["errors"] == []


def test_translate_yaml_output_and_identity_flags() -> None:
    result = CliRunner().invoke(main, ["translate", str(QUICKSTART), "-o", "yaml", "--gateway", "quickstart/web",
                                       "--locality", "r1/z1/s1", "--label", "app=x", "--node-name", "n1"])
    assert result.exit_code == 0, result.output
    out = yaml.safe_load(result.stdout)
    assert [g["gateway"] for g in out["gateways"]] == ["quickstart/web"]


def test_translate_unknown_gateway_and_bad_flags_are_usage_errors() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["translate", str(QUICKSTART), "--gateway", "nope/none"]).exit_code == 2
    assert runner.invoke(main, ["translate", str(QUICKSTART), "--gateway", "no-slash"]).exit_code == 2
    assert runner.invoke(main, ["translate", str(QUICKSTART), "--label", "novalue"]).exit_code == 2
    assert runner.invoke(main, ["translate", str(QUICKSTART), "-o", "xml"]).exit_code == 2


def test_invalid_input_exits_1_and_still_translates_the_rest(tmp_path: Path) -> None:
    shutil.copytree(QUICKSTART, tmp_path / "in")
    (tmp_path / "in" / "broken.yaml").write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: bad\n  namespace: quickstart\n"
        "spec:\n  parentRefs: [{name: web}]\n  rules:\n  - matches:\n    - path: {type: Exact, value: no-slash}\n"
    )
    (tmp_path / "in" / "garbage.yaml").write_text("kind: [unclosed\n")
    proc = run_cli("translate", str(tmp_path / "in"))
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert [g["gateway"] for g in out["gateways"]] == ["quickstart/web"]
    assert len(out["gateways"][0]["clusters"]) == 2
    errors = {(Path(e["file"]).name, e["line"], e.get("field", "")) for e in out["errors"]}
    assert ("broken.yaml", 10, "spec.rules[0].matches[0].path.value") in errors
    assert ("garbage.yaml", 2, "") in errors or ("garbage.yaml", 1, "") in errors
    # Errors also go to stderr, naming file and line.
    assert "broken.yaml:10" in proc.stderr
    # The rejected route shows in status, Accepted False.
    bad = next(s for s in out["status"] if s["metadata"]["name"] == "bad")
    cond = bad["status"]["parents"][0]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("Accepted", "False", "UnsupportedValue")


def test_private_keys_are_redacted(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: gateway-conformance-infra}\n---\n"
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: tls, namespace: gateway-conformance-infra}\n"
        "spec:\n  gatewayClassName: meshgate\n  listeners:\n  - name: https\n    port: 8443\n    protocol: HTTPS\n"
        "    tls: {certificateRefs: [{name: tls-validity-checks-certificate}]}\n"
    )
    shutil.copy(TLS_SECRETS, tmp_path / "secrets.yaml")
    proc = run_cli("translate", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    (secret,) = out["gateways"][0]["secrets"]
    assert secret["name"] == "gateway-conformance-infra/tls-validity-checks-certificate"
    assert secret["tls_certificate"]["private_key"] == {"inline_bytes": "[redacted]"}
    assert "PRIVATE KEY" not in proc.stdout and "LS0tLS1CRUdJTiBQUklWQVRF" not in proc.stdout
    assert secret["tls_certificate"]["certificate_chain"]["inline_bytes"]


def test_status_prints_conditions_and_problems(tmp_path: Path) -> None:
    shutil.copytree(QUICKSTART, tmp_path / "in")
    (tmp_path / "in" / "bad-gw.yaml").write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: bad, namespace: quickstart}\n"
        "spec:\n  gatewayClassName: meshgate\n  listeners:\n  - {name: http, port: 0, protocol: HTTP}\n"
    )
    proc = run_cli("status", "in", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Gateway quickstart/web" in proc.stdout
    assert "listener http (2 routes)" in proc.stdout
    assert "Programmed" in proc.stdout
    assert "Gateway quickstart/bad" in proc.stdout and "Invalid" in proc.stdout
    assert "in/bad-gw.yaml:7" in proc.stdout
    assert "spec.listeners[0].port" in proc.stdout
