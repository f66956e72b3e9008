"""bench/apply.py at a tiny size: each kind of change is applied and takes the path it should
(the benchmark measures what it says it measures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "apply.py"


def _run(*args: str) -> list[dict]:
    out = subprocess.run([sys.executable, str(BENCH), "--n", "20", "--repeat", "2", "--json", *args],
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_every_change_kind_is_measured_on_its_path() -> None:
    (row,) = _run()
    assert row["n"] == 20
    paths = {k: v["paths"] for k, v in row.items() if isinstance(v, dict)}
    assert paths == {"route-add": ["full"], "route-edit": ["full"], "slice-edit": ["endpoints"],
                     "service-edit": ["full"], "dr-add": ["full"], "node-add": ["full"]}
    assert all(v["median_ms"] > 0 for v in row.values() if isinstance(v, dict))


def test_route_changes_with_held_contexts() -> None:
    (row,) = _run("--contexts", "3")
    assert row["contexts"] == 3
    assert {k for k, v in row.items() if isinstance(v, dict)} == {"route-add", "route-edit"}


def test_changes_with_policies_take_the_same_paths() -> None:
    for kind in ("all", "routes"):
        (row,) = _run("--policies", kind)
        paths = {k: v["paths"] for k, v in row.items() if isinstance(v, dict)}
        assert paths["slice-edit"] == ["endpoints"] and paths["route-edit"] == ["full"]
