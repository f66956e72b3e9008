"""Running one benchmark measurement in a fresh interpreter, in its own process group.

A fresh process per measurement keeps peak memory and Envoys from carrying over; the process
group lets an interrupted run stop everything the worker started (its Envoy, its clients).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

WORKER_TIMEOUT_S = 3600
STOP_GRACE_S = 15.0


def require_upb() -> None:
    """Refuse to measure on a slower protobuf backend than the one meshgate is meant to run on."""
    from google.protobuf.internal import api_implementation

    impl = api_implementation.Type()
    assert impl == "upb", f"protobuf must run on its upb backend (ARCHITECTURE §5), got {impl!r}"


def run_worker(cmd: list[str], label: str, timeout_s: float = WORKER_TIMEOUT_S) -> dict:
    """Run `cmd`; its last stdout line is the JSON result. Stops the whole group on any failure."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except BaseException:
        stop_group(proc)
        raise
    if proc.returncode != 0:
        sys.stderr.write(stderr)
        raise SystemExit(f"worker {label} failed (exit {proc.returncode})")
    if stderr.strip():
        sys.stderr.write(stderr)
    return json.loads(stdout.strip().splitlines()[-1])


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the worker's process group, SIGKILL what is left after a grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.communicate(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=STOP_GRACE_S)
