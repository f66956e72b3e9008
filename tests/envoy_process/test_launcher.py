"""The exec launcher with real processes: the command it runs dies when the process that
started it is killed, is not run at all when that process is already gone, runs with umask 077
under the launcher's own pid, and a command that cannot run is reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from meshgate.envoy import launcher

from ..system_checks import alive, wait_until

# A parent that starts `sleep 60` through the launcher, says the child's pid, and waits.
_PARENT = """
import os, subprocess, sys, time
from meshgate.envoy import launcher
child = subprocess.Popen(launcher.command(["sleep", "60"], os.getpid()))
print(child.pid, flush=True)
time.sleep(60)
"""


def test_the_command_dies_with_a_killed_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        # The launcher execs: the child's pid becomes `sleep` itself.
        assert wait_until(lambda: Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"sleep\0"), 10, step=0.02)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_until(lambda: not alive(child), 10, step=0.02), "the launched command outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child and alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_parent_already_gone_means_no_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    # Run by this process but told its parent is another: as if meshgate died before prctl.
    done = subprocess.run(launcher.command(["touch", str(marker)], 1),
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == launcher.EXIT_PARENT_GONE
    assert "is gone; not starting touch" in done.stderr
    assert not marker.exists()


def test_umask_and_pid(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    proc = subprocess.Popen(launcher.command(["sh", "-c", f'umask; echo $$; touch {probe}'], os.getpid()),
                            stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    umask, pid = out.split()
    assert umask == "0077" and int(pid) == proc.pid
    assert (probe.stat().st_mode & 0o777) == 0o600


def test_a_command_that_cannot_run_is_reported(tmp_path: Path) -> None:
    done = subprocess.run(launcher.command([str(tmp_path / "no-such-envoy")], os.getpid()),
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == launcher.EXIT_CANNOT_RUN
    assert f"cannot run {tmp_path / 'no-such-envoy'}" in done.stderr
