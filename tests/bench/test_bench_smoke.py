"""The issue-14 benchmarks run at a tiny size and print well-formed results (their figures are
not checked: speed belongs to the benchmarks themselves, bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300


def bench(script: str, *args: str) -> list[str]:
    """Run bench/`script` with `args` (bounded); its stdout lines. Fails on a non-zero exit."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], check=False, cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.splitlines()


@pytest.mark.envoy
def test_propagation_measures_each_route_added_and_splits_it() -> None:
    lines = bench("propagation.py", "--routes", "5", "--changes", "2", "--poll-ms", "2", "--json")
    (record,) = [json.loads(line) for line in lines if line.startswith("{")]
    assert record["routes"] == 5 and record["protocol"] == "delta" and len(record["samples"]) == 2
    assert set(record["medians_ms"]) == {"total", "watcher", "debounce", "apply", "push", "envoy", "last",
                                         "meshgate_to_ack"}
    for s in record["samples"]:
        # The steps come in order: written, at the controller, through the debounce, applied, pushed.
        assert s["written"] < s["received"] <= s["flushed"] < s["applied"] <= s["pushed"] < s["first_200"]
        assert 0 < s["apply_s"] < s["applied"] - s["flushed"] + 1e-3
        assert s["polls"] >= 1
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["routes"])
    assert lines[header + 1].split()[0] == "5" and len(lines[header + 1].split()) == 9


@pytest.mark.envoy
def test_propagation_compares_policy_modes_in_one_run() -> None:
    lines = bench("propagation.py", "--routes", "5", "--changes", "1", "--poll-ms", "2", "--compare-policies", "none,all")
    rows = [line.split("|")[1:-1] for line in lines if line.startswith("| 5 |")]
    assert [r[1].strip() for r in rows] == ["none", "all"]
    assert rows[0][5].strip() == "1.00"  # none over none
    assert all(float(c) > 0 for r in rows for c in r[2:])


@pytest.mark.envoy
def test_make_before_break_backend_edits_move_traffic_and_cost_no_request() -> None:
    lines = bench("make_before_break.py", "--seconds", "6", "--rate", "50", "--interval", "1", "--protocols", "delta",
                  "--edits", "backends", "--json")
    (record,) = [json.loads(line) for line in lines if line.startswith("{")]
    assert record["edit_kind"] == "backends" and record["edits"] >= 4 and record["requests"] >= 100
    assert record["failed"] == 0, record
    # Both edits took effect: the added web endpoint and the replacement api endpoint answered.
    assert record["pods"].get("web-14", 0) > 0 and record["pods"].get("api-12", 0) > 0, record["pods"]
    assert lines[0].startswith("delta: 0 failed / ") and "backend edits" in lines[0]


def test_fanout_reports_per_proxy_costs_and_the_time_until_all_have_a_change() -> None:
    lines = bench("fanout.py", "--services", "20", "--proxies", "3", "--zones", "2", "--changes", "2", "--json")
    (record,) = [json.loads(line) for line in lines if line.startswith("{")]
    assert record["p"] == 3 and record["n"] == 20 and record["contexts"] == 2
    assert record["cpu_per_proxy_ms"] > 0 and "mem_per_proxy_kb" in record
    assert len(record["changes"]) == 2
    for change in record["changes"]:
        assert 0 < change["first_s"] <= change["all_s"] < 300 and change["cpu_s"] > 0
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["P"])
    assert lines[header + 1].split()[:2] == ["3", "2"]


def test_ratelimit_reports_decisions_per_second_in_process_and_over_grpc() -> None:
    lines = bench("ratelimit.py", "--requests", "200", "--clients", "20", "--concurrency", "4", "--json")
    (record,) = [json.loads(line) for line in lines if line.startswith("{")]
    assert record["requests"] == 200 and record["clients"] == 20
    assert record["in_process"]["per_s"] > 0 and record["grpc"]["per_s"] > 0
    assert record["in_process"]["counter_bytes"] > 0
    assert lines[0].startswith("in-process: ") and lines[1].startswith("grpc: ")


@pytest.mark.envoy
def test_push_with_policies_watches_the_policy_clusters() -> None:
    # The changed endpoint's cluster is its policy's variant: a wrong name would never see the push.
    lines = bench("push.py", "--sizes", "12", "--changes", "3", "--warmup", "1", "--protocols", "delta",
                  "--policies", "all")
    assert any(line.split()[:2] == ["12", "Delta"] for line in lines)
