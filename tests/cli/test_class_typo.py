"""A Gateway naming a GatewayClass that is neither meshgate's nor present (issue 13).

`gatewayClassName: meshgat` used to give an empty status, an empty translation and a silent
`run`. It is a warning now, at the line of spec.gatewayClassName, with the closest class name,
in `translate`, `status`, the log of `serve`/`run` and /debug/status. The Gateway still gets no
status (it is not ours). A Gateway of a class that exists and belongs to another controller is
simply not ours: no warning.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from meshgate.cli import main

from ..meshgate_process import MeshgateProcess

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
CONTROLLER = "meshgate.io/gateway-controller"
REASON = (f"names GatewayClass meshgat, which is not meshgate's (controllerName {CONTROLLER}) and does not exist; "
          "did you mean meshgate?")

OTHER_CLASS = """apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: acme}
spec:
  controllerName: example.com/acme-controller
"""


def with_class(tmp_path: Path, class_name: str, *extra: str) -> Path:
    """The quickstart with its Gateway naming `class_name`, and extra documents in extra.yaml."""
    config = tmp_path / "config"
    shutil.copytree(QUICKSTART, config)
    gateway = config / "gateway.yaml"
    text = gateway.read_text()
    assert text.count("gatewayClassName: meshgate\n") == 1
    gateway.write_text(text.replace("gatewayClassName: meshgate\n", f"gatewayClassName: {class_name}\n"))
    if extra:
        (config / "extra.yaml").write_text("---\n".join(extra))
    return config


def class_line(config: Path) -> int:
    lines = (config / "gateway.yaml").read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if "gatewayClassName" in text)


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_translate_warns_at_the_class_name_with_the_closest_class(tmp_path: Path) -> None:
    config = with_class(tmp_path, "meshgat")
    result = cli("translate", str(config))
    assert result.exit_code == 0, result.output  # a warning: nothing was refused
    out = json.loads(result.stdout)
    assert (out["gateways"], out["status"]) == ([], [])  # not ours: no config, no status
    (warning,) = out["errors"]
    where = f"{config / 'gateway.yaml'}:{class_line(config)}"
    assert warning == {
        "severity": "warning", "file": str(config / "gateway.yaml"), "line": class_line(config),
        "kind": "Gateway", "namespace": "quickstart", "name": "web", "field": "spec.gatewayClassName",
        "reason": REASON, "message": f"{where}: Gateway quickstart/web spec.gatewayClassName: {REASON}",
    }
    assert result.stderr == f"warning: {warning['message']}\n"


def test_status_lists_the_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = with_class(tmp_path, "meshgat")
    result = cli("status", str(config), "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == []
    (warning,) = doc["errors"]
    assert (warning["severity"], warning["field"], warning["reason"]) == ("warning", "spec.gatewayClassName", REASON)
    monkeypatch.chdir(tmp_path)  # short paths: the table is 160 columns wide when not on a terminal
    table = cli("status", "config")
    assert table.exit_code == 0
    assert "Gateway quickstart/web" in table.stdout and "spec.gatewayClassName" in table.stdout
    assert f"config/gateway.yaml:{class_line(config)}" in table.stdout
    assert "did you mean" in table.stdout


def test_a_class_of_another_controller_is_not_a_typo(tmp_path: Path) -> None:
    config = with_class(tmp_path, "acme", OTHER_CLASS)
    result = cli("translate", str(config))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["gateways"], out["status"], out["errors"]) == ([], [], [])
    assert result.stderr == ""


def test_the_closest_class_may_be_another_controllers(tmp_path: Path) -> None:
    config = with_class(tmp_path, "acmee", OTHER_CLASS)
    (warning,) = json.loads(cli("translate", str(config)).stdout)["errors"]
    assert warning["reason"].endswith("does not exist; did you mean acme?")


def test_with_nothing_close_the_classes_of_ours_are_named(tmp_path: Path) -> None:
    config = with_class(tmp_path, "nginx")
    (warning,) = json.loads(cli("translate", str(config)).stdout)["errors"]
    assert warning["reason"] == (f"names GatewayClass nginx, which is not meshgate's (controllerName {CONTROLLER}) "
                                 "and does not exist; meshgate's classes are meshgate, meshgate-waypoint")


def test_a_waypoint_class_is_not_a_typo(tmp_path: Path) -> None:
    config = with_class(tmp_path, "istio-waypoint")
    result = cli("translate", str(config))
    assert json.loads(result.stdout)["errors"] == [], result.output


def debug_status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/status", timeout=10) as resp:
        return json.load(resp)


def test_serve_logs_the_typo_and_shows_it_in_debug_status_until_fixed(tmp_path: Path) -> None:
    config = with_class(tmp_path, "meshgat")
    serve = MeshgateProcess("serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0", merge_stderr=False)
    try:
        line = serve.wait_for("metrics and debug on", timeout=60)
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))  # type: ignore[union-attr]
        logged = serve.wait_for("did you mean meshgate?", timeout=60)
        assert logged in serve.err  # meshgate's log, on stderr
        assert "input warning:" in logged
        assert f"gateway.yaml:{class_line(config)}: Gateway quickstart/web spec.gatewayClassName: {REASON}" in logged
        doc = debug_status(port)
        assert doc["status"] == []
        (warning,) = doc["errors"]
        assert (warning["severity"], warning["line"], warning["field"], warning["reason"]) == (
            "warning", class_line(config), "spec.gatewayClassName", REASON)
        # Fixed: the warning goes (and is said to), and the Gateway is ours again.
        gateway = config / "gateway.yaml"
        gateway.write_text(gateway.read_text().replace("gatewayClassName: meshgat\n", "gatewayClassName: meshgate\n"))
        resolved = serve.wait_for("input warning resolved", timeout=60, after_last=True)
        assert "spec.gatewayClassName" in resolved
        deadline = time.monotonic() + 30
        doc = debug_status(port)
        while not doc["status"] and time.monotonic() < deadline:
            time.sleep(0.1)
            doc = debug_status(port)
        assert doc["errors"] == []
        assert ("Gateway", "web") in {(o["kind"], o["metadata"]["name"]) for o in doc["status"]}
    finally:
        serve.terminate(timeout=30)
    assert serve.proc.returncode == 0, serve.text
