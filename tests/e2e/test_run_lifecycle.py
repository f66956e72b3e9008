"""`meshgate run`'s Envoys and workdir over the life of the process: Envoys die with a meshgate
killed by SIGKILL and free the Gateway port; the workdir is 0700 with 0600 files; each Envoy's
access-log path is printed; a temporary workdir is kept after exit unless --cleanup is given."""

from __future__ import annotations

import os
import re
import signal
import stat
from pathlib import Path

import pytest

from ..system_checks import alive, can_bind, parent_of, processes_mentioning, wait_until
from .harness import get
from .run_process import GATEWAY_PORT, MeshgateRun, quickstart_copy

pytestmark = pytest.mark.envoy


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_envoys_die_with_a_killed_meshgate(tmp_path: Path) -> None:
    config, base = quickstart_copy(tmp_path)
    workdir = tmp_path / "work"
    run = MeshgateRun(config, "--workdir", str(workdir))
    envoys: list[int] = []
    try:
        url = run.wait_for("try: curl").split()[-1]
        assert get(url).status == 200
        envoys = processes_mentioning(f"{workdir}/")  # Envoy: -c WORKDIR/NAME.envoy.json
        assert len(envoys) == 1, envoys
        assert parent_of(envoys[0]) == run.proc.pid
        assert not can_bind(f"{base}.1", GATEWAY_PORT), "the Envoy holds the Gateway port"

        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(timeout=10)
        assert wait_until(lambda: not alive(envoys[0]), 10), f"Envoy {envoys[0]} outlived a killed meshgate"
        assert processes_mentioning(f"{workdir}/") == []
        assert wait_until(lambda: can_bind(f"{base}.1", GATEWAY_PORT), 10), "the Gateway port is still held"
        assert get(url).status == 0
    finally:
        run.kill()
        for pid in envoys:  # never leave an Envoy behind, whatever the outcome
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_temporary_workdir_is_private_printed_and_kept(tmp_path: Path) -> None:
    config, _ = quickstart_copy(tmp_path)
    tmp = tmp_path / "tmp"  # where mkdtemp makes the temporary workdir
    tmp.mkdir()
    run = MeshgateRun(config, env={"TMPDIR": str(tmp)}, umask=0o022)
    try:
        line = run.wait_for("meshgate: workdir ")
        workdir = Path(re.search(r"workdir (\S+) \(", line).group(1))  # type: ignore[union-attr]
        assert workdir.parent == tmp and "kept after exit, --cleanup removes it" in line
        gateway = run.wait_for("gateway quickstart/web: http://")
        log_path = Path(re.search(r"access log (\S+)\)", gateway).group(1))  # type: ignore[union-attr]
        assert log_path.parent == workdir and log_path.is_file()
        url = run.wait_for("try: curl").split()[-1]
        assert get(url + "api/kept?n=1").status == 200
        # The printed path is where the access log goes (Envoy flushes it every 0.5 s).
        assert wait_until(lambda: "/api/kept?n=1" in log_path.read_text(), 10), log_path.read_text()[-2000:]

        assert _mode(workdir) == 0o700
        files = sorted(p for p in workdir.rglob("*") if p.is_file())
        assert {p.name for p in files} >= {"quickstart_web.envoy.json", "quickstart_web.envoy.log",
                                           "quickstart_web.envoy.admin", "quickstart_web.envoy.pid"}
        assert {p.name: oct(_mode(p)) for p in files} == {p.name: oct(0o600) for p in files}
        dirs = sorted(p for p in workdir.rglob("*") if p.is_dir())  # run's CA lives in pki/
        assert {p.name: oct(_mode(p)) for p in dirs} == {p.name: oct(0o700) for p in dirs}

        run.proc.send_signal(signal.SIGTERM)
        assert run.finish() == 0
    finally:
        run.kill()
    assert f"meshgate: Envoy logs kept in {workdir}" in run.text
    assert "/api/kept?n=1" in log_path.read_text()


def test_cleanup_removes_only_a_temporary_workdir(tmp_path: Path) -> None:
    config, _ = quickstart_copy(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    named = tmp_path / "work"
    for args in ((), ("--workdir", str(named))):
        run = MeshgateRun(config, "--cleanup", *args, env={"TMPDIR": str(tmp)})
        try:
            workdir = Path(re.search(r"workdir (\S+) \(", run.wait_for("meshgate: workdir ")).group(1))  # type: ignore[union-attr]
            run.wait_for("try: curl")
            assert (workdir / "quickstart_web.envoy.log").is_file()
            run.proc.send_signal(signal.SIGTERM)
            assert run.finish() == 0
        finally:
            run.kill()
        if args:  # a workdir the user named is never removed
            assert workdir == named and (named / "quickstart_web.envoy.log").is_file()
            assert "removed workdir" not in run.text
        else:
            assert f"meshgate: removed workdir {workdir}" in run.text
            assert not workdir.exists() and list(tmp.iterdir()) == []


def test_given_workdir_is_tightened(tmp_path: Path) -> None:
    """An existing 0755 --workdir with a 0644 log from an older run, under umask 022: the run
    makes the directory 0700 and every file in it 0600, and keeps the older log's lines."""
    config, _ = quickstart_copy(tmp_path)
    workdir = tmp_path / "work"
    workdir.mkdir(mode=0o755)
    os.chmod(workdir, 0o755)
    old_log = workdir / "quickstart_web.envoy.log"
    old_log.write_text("an older run's log\n")
    os.chmod(old_log, 0o644)
    run = MeshgateRun(config, "--workdir", str(workdir), umask=0o022)
    try:
        run.wait_for("try: curl")
        assert _mode(workdir) == 0o700
        files = sorted(p for p in workdir.rglob("*") if p.is_file())
        assert {p.name for p in files} >= {"quickstart_web.envoy.json", "quickstart_web.envoy.log",
                                           "quickstart_web.envoy.admin"}
        assert {p.name: oct(_mode(p)) for p in files} == {p.name: oct(0o600) for p in files}
        dirs = sorted(p for p in workdir.rglob("*") if p.is_dir())  # run's CA lives in pki/
        assert {p.name: oct(_mode(p)) for p in dirs} == {p.name: oct(0o700) for p in dirs}
        assert old_log.read_text().startswith("an older run's log\n")  # appended to, not replaced
        run.proc.send_signal(signal.SIGTERM)
        assert run.finish() == 0
    finally:
        run.kill()
    assert workdir.is_dir() and old_log.is_file()
