"""`meshgate status` as a CI gate: exit status, `--kind`/`-n`/`--problems`, the count summary and
the colours of the Status column (issue 13).

Exit status: 0 all well (warnings allowed), 1 input errors (live: or a NACK), 3 every input
accepted but some object of ours has a condition in its unhealthy state, 2 usage errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from rich.console import Console

from meshgate.cli import main
from meshgate.providers.files import FileProvider
from meshgate.runtime.controller import ControlPlane
from meshgate.runtime.debug import DebugServer
from meshgate.runtime.metrics import Metrics
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.streams import StreamRegistry

from ..meshgate_process import MESHGATE

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"

# A second namespace whose route names a Service that does not exist (ResolvedRefs False).
OTHER = """apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: other}
spec:
  gatewayClassName: meshgate
  addresses: [{type: IPAddress, value: 127.0.0.2}]
  listeners:
  - {name: http, port: 18080, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: missing, namespace: other}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: nowhere, port: 80}]
"""
BAD_GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bad, namespace: quickstart}
spec:
  gatewayClassName: meshgate
  listeners:
  - {name: http, port: 0, protocol: HTTP}
"""
TYPO_GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: typo, namespace: quickstart}
spec:
  gatewayClassName: meshgat
  listeners:
  - {name: http, port: 18081, protocol: HTTP}
"""


def copy_quickstart(tmp_path: Path, name: str = "in") -> Path:
    shutil.copytree(QUICKSTART, tmp_path / name)
    return tmp_path / name


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return copy_quickstart(tmp_path)


@pytest.fixture
def missing_backend(tmp_path: Path) -> Path:
    """The quickstart with the api route sent to Service `apii`, which does not exist."""
    config = copy_quickstart(tmp_path)
    routes = config / "routes.yaml"
    text = routes.read_text()
    assert text.count("    - name: api\n      port: 80") == 1
    routes.write_text(text.replace("    - name: api\n      port: 80", "    - name: apii\n      port: 80"))
    return config


@pytest.fixture
def two_namespaces(tmp_path: Path) -> Path:
    """The quickstart (healthy) and namespace `other` (a route to a missing Service)."""
    config = copy_quickstart(tmp_path)
    (config / "other.yaml").write_text(OTHER)
    return config


def status(*args: str) -> Result:
    return CliRunner().invoke(main, ["status", *args])


def objects(doc: dict) -> list[tuple[str, str, str]]:
    return sorted((o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in doc["status"])


def last_line(text: str) -> str:
    return text.rstrip("\n").rsplit("\n", 1)[-1]


# -- exit status ------------------------------------------------------------------------------------
def test_healthy_input_exits_0_with_a_summary(good: Path) -> None:
    result = status(str(good))
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "3 objects, 0 with problems; 0 input errors, 0 warnings"


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_a_missing_backend_exits_3(missing_backend: Path, fmt: str) -> None:
    """ResolvedRefs False BackendNotFound used to exit 0: a CI gate let it through."""
    result = status(str(missing_backend), "-o", fmt)
    assert result.exit_code == 3, result.output
    summary = "3 objects, 1 with problems; 0 input errors, 0 warnings"
    if fmt == "table":
        assert "BackendNotFound" in result.stdout
        assert last_line(result.stdout) == summary
    else:
        # The document keeps its shape; the summary goes to stderr.
        doc = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
        assert list(doc) == ["status", "errors"]
        assert len(doc["status"]) == 3
        assert result.stderr.strip() == summary


def test_input_errors_exit_1_even_with_unhealthy_conditions(missing_backend: Path) -> None:
    (missing_backend / "bad-gw.yaml").write_text(BAD_GATEWAY)
    result = status(str(missing_backend))
    assert result.exit_code == 1, result.output


def test_warnings_alone_exit_0(good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (good / "typo.yaml").write_text(TYPO_GATEWAY)
    monkeypatch.chdir(good.parent)  # short paths: the table is 160 columns wide when not on a terminal
    result = status(good.name)
    assert result.exit_code == 0, result.output
    assert "spec.gatewayClassName" in result.stdout and "warning" in result.stdout
    assert last_line(result.stdout) == "3 objects, 0 with problems; 0 input errors, 1 warning"


def test_summary_counts_objects_problems_errors_and_warnings(missing_backend: Path) -> None:
    (missing_backend / "bad-gw.yaml").write_text(BAD_GATEWAY)  # an error; its Gateway gets Accepted False
    (missing_backend / "broken.yaml").write_text("kind: [\n")  # an error naming no object
    (missing_backend / "typo.yaml").write_text(TYPO_GATEWAY)  # a warning
    result = status(str(missing_backend), "-o", "json")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == "4 objects, 2 with problems; 2 input errors, 1 warning"


def test_an_unknown_kind_is_a_usage_error(good: Path) -> None:
    result = status(str(good), "--kind", "HTTPRoutes")
    assert result.exit_code == 2
    assert "Invalid value for '--kind': 'HTTPRoutes' is not one of" in result.stderr


# -- filters ----------------------------------------------------------------------------------------
def test_kind_selects_objects_and_the_exit_status(missing_backend: Path) -> None:
    gateways = status(str(missing_backend), "--kind", "Gateway", "-o", "json")
    assert gateways.exit_code == 0, gateways.output  # the route's problem is not selected
    assert objects(json.loads(gateways.stdout)) == [("Gateway", "quickstart", "web")]
    assert gateways.stderr.strip() == "1 object, 0 with problems; 0 input errors, 0 warnings"
    routes = status(str(missing_backend), "--kind", "httproute", "-o", "json")  # any case
    assert routes.exit_code == 3, routes.output
    assert objects(json.loads(routes.stdout)) == [("HTTPRoute", "quickstart", "api"), ("HTTPRoute", "quickstart", "web")]
    both = status(str(missing_backend), "--kind", "Gateway", "--kind", "HTTPRoute", "-o", "json")
    assert both.exit_code == 3
    assert len(json.loads(both.stdout)["status"]) == 3


def test_kind_selects_input_problems_but_keeps_those_naming_no_object(good: Path) -> None:
    (good / "bad-gw.yaml").write_text(BAD_GATEWAY)
    (good / "broken.yaml").write_text("kind: [\n")
    routes = status(str(good), "--kind", "HTTPRoute", "-o", "json")
    doc = json.loads(routes.stdout)
    # The Gateway's error is not selected; the file that cannot be parsed may hide any kind.
    assert [Path(e["file"]).name for e in doc["errors"]] == ["broken.yaml"]
    assert routes.exit_code == 1
    gateways = status(str(good), "--kind", "Gateway", "-o", "json")
    assert sorted(Path(e["file"]).name for e in json.loads(gateways.stdout)["errors"]) == ["bad-gw.yaml", "broken.yaml"]


def test_namespace_selects_objects_errors_and_the_exit_status(two_namespaces: Path) -> None:
    (two_namespaces / "bad-gw.yaml").write_text(BAD_GATEWAY)  # in quickstart
    everything = status(str(two_namespaces), "-o", "json")
    assert everything.exit_code == 1
    other = status(str(two_namespaces), "-n", "other", "-o", "json")
    assert other.exit_code == 3, other.output  # quickstart's input error is not selected
    doc = json.loads(other.stdout)
    assert objects(doc) == [("Gateway", "other", "gw"), ("HTTPRoute", "other", "missing")]
    assert doc["errors"] == []
    (two_namespaces / "bad-gw.yaml").unlink()
    quickstart = status(str(two_namespaces), "--namespace", "quickstart")
    assert quickstart.exit_code == 0, quickstart.output
    assert "other/" not in quickstart.stdout
    assert last_line(quickstart.stdout) == "3 objects, 0 with problems; 0 input errors, 0 warnings"


def test_problems_shows_only_unhealthy_conditions_and_input_problems(two_namespaces: Path) -> None:
    (two_namespaces / "typo.yaml").write_text(TYPO_GATEWAY)
    result = status(str(two_namespaces), "--problems", "-o", "json")
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["status", "errors"]
    (route,) = doc["status"]
    assert (route["kind"], route["metadata"]) == ("HTTPRoute", {"name": "missing", "namespace": "other"})
    (parent,) = route["status"]["parents"]
    assert parent["parentRef"]["name"] == "gw"
    assert [(c["type"], c["status"], c["reason"]) for c in parent["conditions"]] == [
        ("ResolvedRefs", "False", "BackendNotFound")]
    assert [(e["severity"], e["name"]) for e in doc["errors"]] == [("warning", "typo")]
    # The summary still counts every object the other filters select.
    assert result.stderr.strip() == "5 objects, 1 with problems; 0 input errors, 1 warning"
    table = status(str(two_namespaces), "--problems")
    assert table.exit_code == 3
    assert "BackendNotFound" in table.stdout and "meshgat" in table.stdout
    assert "Accepted" not in table.stdout and "quickstart/web" not in table.stdout


def test_problems_of_a_healthy_input_is_only_the_summary(good: Path) -> None:
    result = status(str(good), "--problems")
    assert result.exit_code == 0
    assert result.stdout == "3 objects, 0 with problems; 0 input errors, 0 warnings\n"


# -- colours ----------------------------------------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;]*m")
GREEN, RED = "\x1b[32m", "\x1b[31m"


def status_cells(text: str, condition: str) -> list[str]:
    """The raw (ANSI-coloured) Status cells of the table rows of one condition type."""
    cells = []
    for line in text.splitlines():
        parts = line.split("│")
        if len(parts) > 5 and ANSI.sub("", parts[3]).strip() == condition:
            cells.append(parts[4])
    return cells


def test_conflicted_false_is_drawn_green_and_an_unhealthy_condition_red(missing_backend: Path) -> None:
    """The real command, its colours forced on: `Conflicted False` (healthy) used to be red."""
    proc = subprocess.run([str(MESHGATE), "status", str(missing_backend)], capture_output=True, text=True,
                          timeout=60, check=False, env=dict(os.environ, FORCE_COLOR="1", COLUMNS="200"))
    assert proc.returncode == 3, proc.stderr
    (conflicted,) = status_cells(proc.stdout, "Conflicted")
    assert ANSI.sub("", conflicted).strip() == "False"
    assert conflicted.lstrip().startswith(GREEN), repr(conflicted)
    resolved = status_cells(proc.stdout, "ResolvedRefs")
    assert sorted(ANSI.sub("", c).strip() for c in resolved) == ["False", "True", "True"]
    for cell in resolved:
        assert cell.lstrip().startswith(RED if "False" in cell else GREEN), repr(cell)


@pytest.mark.parametrize(("type_", "value", "style"), [
    ("Conflicted", "False", "green"), ("Conflicted", "True", "red"),
    ("PartiallyInvalid", "True", "red"), ("PartiallyInvalid", "False", "green"),
    ("Accepted", "False", "red"), ("Programmed", "Unknown", "yellow"), ("ResolvedRefs", "True", "green"),
    ("SomethingElse", "False", ""),
])
def test_the_status_cell_style_follows_the_healthy_state_table(type_: str, value: str, style: str) -> None:
    from meshgate.status_report import HEALTHY
    from meshgate.status_table import status_text

    console = Console(record=True, width=40, force_terminal=True, color_system="standard")
    text = status_text({"type": type_, "status": value, "reason": "R"})
    assert (str(text.style), text.plain) == (style, value)
    console.print(text)
    assert console.export_text(styles=True).startswith({"green": GREEN, "red": RED, "yellow": "\x1b[33m", "": value}[style])
    assert (HEALTHY.get(type_) == value) == (style == "green")


# -- from a running meshgate ------------------------------------------------------------------------
async def _from_server(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`meshgate status --server ...` against a control plane (no Envoy) serving its debug port."""
    control = ControlPlane(FileProvider([config]), SnapshotCache())
    control.load()
    debug = DebugServer(control, StreamRegistry(), Metrics())
    port = await debug.start("127.0.0.1", 0)
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: subprocess.run(
            [str(MESHGATE), "status", "--server", f"127.0.0.1:{port}", *args],
            capture_output=True, text=True, timeout=60, check=False))
    finally:
        await debug.stop()


def from_server(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return asyncio.run(asyncio.wait_for(_from_server(config, *args), 90))


def test_server_exit_status_filters_and_summary(two_namespaces: Path) -> None:
    everything = from_server(two_namespaces)
    assert everything.returncode == 3, everything.stdout + everything.stderr
    assert last_line(everything.stdout) == "5 objects, 1 with problems; 0 input errors, 0 warnings; 0 proxies, 0 with a NACK"
    quickstart = from_server(two_namespaces, "-n", "quickstart", "-o", "json")
    assert quickstart.returncode == 0, quickstart.stderr
    doc = json.loads(quickstart.stdout)
    assert list(doc) == ["status", "errors", "proxies"]
    assert {o["metadata"]["namespace"] for o in doc["status"]} == {"quickstart"}
    problems = from_server(two_namespaces, "--problems", "--kind", "HTTPRoute", "-o", "yaml")
    assert problems.returncode == 3
    doc = yaml.safe_load(problems.stdout)
    assert list(doc) == ["status", "errors", "proxies"]
    assert objects(doc) == [("HTTPRoute", "other", "missing")]
    assert problems.stderr.strip() == "3 objects, 1 with problems; 0 input errors, 0 warnings; 0 proxies, 0 with a NACK"
