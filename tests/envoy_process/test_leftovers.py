"""Pid records and the clean-up of a crashed run, with real processes standing in for Envoys:
a process is stopped only when its pid, start time and bootstrap argument all match its record;
one that merely has the pid now is never signalled."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meshgate.envoy.leftovers import (
    EnvoyRecord,
    is_running,
    make_record,
    parse_stat,
    process_start_time,
    read_record,
    stop_leftovers,
    write_record,
)

_SLEEPER = "import signal, sys, time\nif sys.argv[2:]: signal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)"


@pytest.fixture
def sleepers():
    """Start `python -c SLEEP CONFIG [ignore-term]` processes; all are killed afterwards."""
    procs: list[subprocess.Popen] = []

    def start(config: Path, ignore_term: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _SLEEPER, str(config), *(["x"] if ignore_term else [])])
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_parse_stat_counts_fields_after_the_last_parenthesis() -> None:
    text = "4242 (envoy (main) x) S 1 4242 4242 0 -1 4194560 " + " ".join(["0"] * 12) + " 987654 100 200\n"
    assert parse_stat(text) == ("S", 987654)


def test_record_round_trip_and_bad_records(tmp_path: Path) -> None:
    rec = EnvoyRecord("ns/gw", 12, 34, "/w/ns_gw.envoy.json")
    write_record(tmp_path / "a.envoy.pid", rec)
    assert read_record(tmp_path / "a.envoy.pid") == rec
    assert (tmp_path / "a.envoy.pid").stat().st_mode & 0o777 == 0o600
    (tmp_path / "b.envoy.pid").write_text("{not json")
    assert read_record(tmp_path / "b.envoy.pid") is None
    assert read_record(tmp_path / "missing.envoy.pid") is None


def test_only_the_recorded_process_is_stopped(tmp_path: Path, sleepers) -> None:
    config = tmp_path / "ns_gw.envoy.json"
    ours = sleepers(config)
    stranger = sleepers(tmp_path / "other.json")  # has "our" pid in the records below, nothing else
    stale = sleepers(config)  # right argument, but a start time that is not its own
    record = make_record("ns/gw", ours.pid, config)
    assert record is not None and is_running(record)
    start = process_start_time(stranger.pid)
    assert start is not None
    write_record(tmp_path / "a.envoy.pid", record)
    write_record(tmp_path / "b.envoy.pid", EnvoyRecord("ns/b", stranger.pid, start, str(config)))
    write_record(tmp_path / "c.envoy.pid", EnvoyRecord("ns/c", stale.pid, start - 1, str(config)))
    (tmp_path / "d.envoy.pid").write_text("garbage")

    stopped = asyncio.run(asyncio.wait_for(stop_leftovers(tmp_path), 30))

    assert stopped == [record]
    assert ours.wait(timeout=10) == -15  # SIGTERM
    assert stranger.poll() is None and stale.poll() is None  # never signalled
    assert list(tmp_path.glob("*.envoy.pid")) == []  # every record is gone after the clean-up
    assert not is_running(record)


def test_sigkill_when_sigterm_is_ignored(tmp_path: Path, sleepers) -> None:
    config = tmp_path / "ns_gw.envoy.json"
    stubborn = sleepers(config, ignore_term=True)
    record = None
    for _ in range(100):  # until the interpreter has set SIG_IGN: read from /proc
        status = Path(f"/proc/{stubborn.pid}/status").read_text()
        if int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16) & (1 << 14):
            record = make_record("ns/gw", stubborn.pid, config)
            break
        time.sleep(0.05)
    assert record is not None
    write_record(tmp_path / "a.envoy.pid", record)
    assert asyncio.run(asyncio.wait_for(stop_leftovers(tmp_path, timeout=0.5), 30)) == [record]
    assert stubborn.wait(timeout=10) == -9


def test_a_zombie_is_not_running(tmp_path: Path) -> None:
    config = tmp_path / "x.json"
    proc = subprocess.Popen([sys.executable, "-c", "pass", str(config)])
    record = make_record("ns/gw", proc.pid, config)
    for _ in range(200):  # exited but not reaped: a zombie
        if process_start_time(proc.pid) is None:
            break
        time.sleep(0.05)
    assert process_start_time(proc.pid) is None
    assert record is not None and not is_running(record)
    proc.wait()
