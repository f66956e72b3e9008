"""bench/status_writes.py at a tiny size: it counts the status writes of the leader only, one per
created route at least, and measures a handover (its figures are not checked: they belong to the
benchmark, bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_status_writes_are_counted_per_replica_and_the_handover_measured() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "status_writes.py"), "--routes", "5",
                           "--lease-duration", "3", "--quiet", "0.5", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    (record,) = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert record["routes"] == 5 and record["lease_duration_s"] == 3
    assert record["by_replica"]["replica-b"] == 0  # only the leader wrote
    assert record["by_kind"]["httproutes"] >= 5  # every route got its status
    assert record["status_writes"] == record["by_replica"]["replica-a"]
    assert 0 < record["handover_lease_s"] <= record["handover_first_write_s"]
