"""The issue's quickstart typos through `meshgate translate`, as a user runs it: exit 1 and an
error naming file, line, field and the field meant (before: exit 0, and a route answering 500,
or no route at all)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"


def translate(path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "meshgate"
    return subprocess.run([str(exe), "translate", str(path)], capture_output=True, text=True, timeout=60, check=False)


def quickstart_with(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the quickstart with the first `old` in routes.yaml replaced by `new`."""
    copy = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, copy)
    routes = copy / "routes.yaml"
    text = routes.read_text(encoding="utf-8")
    assert old in text
    routes.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


@pytest.mark.parametrize(("old", "new", "line", "field", "meant"), [
    ("    backendRefs:", "    backendRef:", 22, "spec.rules[0].backendRef", "backendRefs"),
    ("  parentRefs:", "  parentRef:", 8, "spec.parentRef", "parentRefs"),
])
def test_a_misspelt_field_fails_translate_naming_the_field(tmp_path: Path, old: str, new: str, line: int,
                                                           field: str, meant: str) -> None:
    proc = translate(quickstart_with(tmp_path, old, new))
    assert proc.returncode == 1
    routes = tmp_path / "quickstart" / "routes.yaml"
    message = f"{routes}:{line}: HTTPRoute quickstart/api {field}: unknown field: did you mean {meant}?"
    assert f"error: {message}" in proc.stderr.splitlines()
    out = json.loads(proc.stdout)
    assert [e["message"] for e in out["errors"]] == [message]
    # The route is refused, not half-applied: no /api route (it would answer 500 without backends).
    (gw,) = out["gateways"]
    paths = [m["match"].get("prefix") or m["match"].get("path_separated_prefix")
             for rc in gw["routes"] for vh in rc["virtual_hosts"] for m in vh["routes"]]
    assert "/api" not in paths
    # Where the route names its parent, its status says why it was refused.
    statuses = [s for s in out["status"] if s["kind"] == "HTTPRoute" and s["metadata"]["name"] == "api"]
    if field != "spec.parentRef":
        (status,) = statuses
        (accepted,) = [c for p in status["status"]["parents"] for c in p["conditions"] if c["type"] == "Accepted"]
        assert (accepted["status"], accepted["reason"]) == ("False", "UnsupportedValue")
        assert f"{field}: unknown field: did you mean {meant}?" in accepted["message"]
    # The other route still translates.
    assert any(c["name"] == "outbound|80||web.quickstart.svc.cluster.local" for c in gw["clusters"])


def test_a_misspelt_kind_fails_translate_with_the_kind_meant(tmp_path: Path) -> None:
    proc = translate(quickstart_with(tmp_path, "kind: HTTPRoute", "kind: HTTPRoutee"))
    assert proc.returncode == 1
    routes = tmp_path / "quickstart" / "routes.yaml"
    assert (f"error: {routes}:3: HTTPRoutee quickstart/api kind: unknown kind HTTPRoutee in "
            "gateway.networking.k8s.io/v1: did you mean HTTPRoute?") in proc.stderr.splitlines()


def test_the_quickstart_itself_passes(tmp_path: Path) -> None:
    proc = translate(QUICKSTART)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["errors"] == []
