"""`meshgate status -o json|yaml` (files or a running meshgate) and `meshgate run --address-pool` checks.

json/yaml print {status, errors} (plus proxies with --server): the status objects as Kubernetes
would hold them, the errors as `meshgate translate` reports them. Exit status 1 when any input
was invalid, 2 for a usage error.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from meshgate.cli import main
from meshgate.providers.files import FileProvider
from meshgate.runtime.controller import ControlPlane
from meshgate.runtime.debug import DebugServer
from meshgate.runtime.metrics import Metrics
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.streams import StreamRegistry

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"

BAD_GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bad, namespace: quickstart}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 0, protocol: HTTP}
"""
# What `errors` says of BAD_GATEWAY (the file aside): the listener port, on line 7.
BAD_PORT_ERROR = {
    "severity": "error", "line": 7, "kind": "Gateway", "namespace": "quickstart", "name": "bad",
    "field": "spec.listeners[0].port", "reason": "must be between 1 and 65535, got 0",
}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    shutil.copytree(QUICKSTART, tmp_path / "good")
    return tmp_path / "good"


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    shutil.copytree(QUICKSTART, tmp_path / "bad")
    (tmp_path / "bad" / "bad-gw.yaml").write_text(BAD_GATEWAY)
    return tmp_path / "bad"


def status(*args: str) -> Result:
    return CliRunner().invoke(main, ["status", *args])


def without_times(doc: dict) -> dict:
    """The document with lastTransitionTime left out (two runs may straddle a second)."""
    def strip(node: object) -> object:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "lastTransitionTime"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(doc)  # type: ignore[return-value]


def conditions(obj: dict) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"]["conditions"]}


def by_name(doc: dict) -> dict[tuple[str, str], dict]:
    return {(s["kind"], s["metadata"]["name"]): s for s in doc["status"]}


# -- from files ---------------------------------------------------------------------------------
def test_json_of_valid_input(good: Path) -> None:
    result = status(str(good), "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["status", "errors"]
    assert doc["errors"] == []
    objects = by_name(doc)
    assert sorted(objects) == [("Gateway", "web"), ("HTTPRoute", "api"), ("HTTPRoute", "web")]
    web = objects[("Gateway", "web")]
    # Kubernetes-shaped: apiVersion, kind, metadata, status.
    assert (web["apiVersion"], web["metadata"]) == ("gateway.networking.k8s.io/v1", {"name": "web", "namespace": "quickstart"})
    assert web["status"]["addresses"] == [{"type": "IPAddress", "value": "127.0.0.1"}]
    assert conditions(web) == {"Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")}
    assert [(ls["name"], ls["attachedRoutes"]) for ls in web["status"]["listeners"]] == [("http", 2)]
    (parent,) = objects[("HTTPRoute", "api")]["status"]["parents"]
    assert parent["parentRef"]["name"] == "web"
    assert [c["type"] for c in parent["conditions"]] == ["Accepted", "ResolvedRefs"]


def test_yaml_is_the_same_document_as_json(good: Path) -> None:
    as_yaml = status(str(good), "-o", "yaml")
    as_json = status(str(good), "-o", "json")
    assert (as_yaml.exit_code, as_json.exit_code) == (0, 0), as_yaml.output
    assert as_yaml.stdout.startswith("status:\n")  # YAML, not JSON (which YAML would parse too)
    assert without_times(yaml.safe_load(as_yaml.stdout)) == without_times(json.loads(as_json.stdout))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_invalid_input_is_listed_in_errors_and_exits_1(bad: Path, fmt: str) -> None:
    result = status(str(bad), "-o", fmt)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert list(doc) == ["status", "errors"]
    (error,) = doc["errors"]
    assert Path(error["file"]) == bad / "bad-gw.yaml"
    assert {k: error[k] for k in BAD_PORT_ERROR} == BAD_PORT_ERROR
    assert error["message"] == f"{error['file']}:7: Gateway quickstart/bad spec.listeners[0].port: {BAD_PORT_ERROR['reason']}"
    # The invalid Gateway still gets a status saying why; the valid one is served as before.
    objects = by_name(doc)
    assert conditions(objects[("Gateway", "bad")]) == {"Accepted": ("False", "Invalid"), "Programmed": ("False", "Invalid")}
    assert conditions(objects[("Gateway", "web")])["Programmed"] == ("True", "Programmed")


def test_table_output_exits_1_on_invalid_input_too(bad: Path) -> None:
    result = status(str(bad))
    assert result.exit_code == 1
    assert "spec.listeners[0].port" in result.stdout
    assert not result.stdout.lstrip().startswith(("{", "status:"))


def test_unknown_output_format_and_missing_input_are_usage_errors(good: Path) -> None:
    bogus = status(str(good), "-o", "bogus")
    assert bogus.exit_code == 2
    assert "'bogus' is not one of 'table', 'json', 'yaml'" in bogus.stderr
    assert bogus.stdout == ""
    nothing = status("-o", "json")
    assert nothing.exit_code == 2
    assert "give PATHS, or --server HOST:PORT" in nothing.stderr


# -- from a running meshgate --------------------------------------------------------------------
def meshgate(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `meshgate` entry point, in a subprocess (the server runs on this process's loop)."""
    exe = Path(sys.executable).parent / "meshgate"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, check=False)


async def status_from_server(config: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    """`meshgate status --server` against a control plane (no Envoy) serving its debug port on loopback."""
    control = ControlPlane(FileProvider([config]), SnapshotCache())
    control.load()
    debug = DebugServer(control, StreamRegistry(), Metrics())
    port = await debug.start("127.0.0.1", 0)
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, meshgate, "status", "--server", f"127.0.0.1:{port}", "-o", fmt)
    finally:
        await debug.stop()


def test_server_json_has_status_errors_and_proxies(good: Path) -> None:
    proc = asyncio.run(asyncio.wait_for(status_from_server(good, "json"), 60))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert list(doc) == ["status", "errors", "proxies"]
    assert (doc["errors"], doc["proxies"]) == ([], [])  # no Envoy connected
    assert sorted(by_name(doc)) == [("Gateway", "web"), ("HTTPRoute", "api"), ("HTTPRoute", "web")]
    assert by_name(doc)[("Gateway", "web")]["status"]["addresses"] == [{"type": "IPAddress", "value": "127.0.0.1"}]


def test_server_yaml_with_invalid_input_exits_1(bad: Path) -> None:
    proc = asyncio.run(asyncio.wait_for(status_from_server(bad, "yaml"), 60))
    assert proc.returncode == 1, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert list(doc) == ["status", "errors", "proxies"]
    (error,) = doc["errors"]
    assert Path(error["file"]).name == "bad-gw.yaml"
    assert {k: error[k] for k in BAD_PORT_ERROR} == BAD_PORT_ERROR


def test_unreachable_server_is_an_error() -> None:
    with socket.socket() as s:  # a loopback port that nothing listens on (once closed)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = status("--server", f"127.0.0.1:{port}", "-o", "json")
    assert result.exit_code == 1
    assert f"cannot reach meshgate at 127.0.0.1:{port}" in result.stderr
    assert result.stdout == ""


# -- meshgate run --address-pool ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("pool", "why"),
    [
        ("300.1.2.0/24", "'300.1.2.0/24' does not appear to be an IPv4 or IPv6 network"),
        ("10.0.0.1/24", "10.0.0.1/24 has host bits set"),
    ],
)
def test_run_refuses_an_invalid_address_pool(pool: str, why: str) -> None:
    # --xds is invalid too, but only checked once the options are parsed: should the pool ever
    # be accepted, the command stops there (naming --xds) instead of starting Envoys.
    result = CliRunner().invoke(main, ["run", str(QUICKSTART), "--address-pool", pool,
                                       "--xds", "not-host-port", "--debug-port", "0"])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--address-pool': address pool '{pool}': {why}" in result.stderr
