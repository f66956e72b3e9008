"""ManagedEnvoy: a real Envoy started, supervised, restarted after kill -9 and stopped without leftovers.

The bootstrap points at an xDS port where nothing listens. Envoy then reports LIVE only after
its initial CDS and LDS fetches time out (15 s each by default, so 30 s), so these bootstraps set
`initial_fetch_timeout` to 1 s: the test then waits for the same LIVE that `meshgate run`
waits for, rather than a weaker "admin answers" check.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from envoy.config.bootstrap.v3 import bootstrap_pb2

from meshgate.envoy.bootstrap import XDS_CLUSTER, ads_bootstrap
from meshgate.envoy.process import EnvoyAdminError, EnvoyStartError, ManagedEnvoy

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 90) -> T:
    """Run a coroutine on a fresh loop, bounded."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _bootstrap(admin_port: int = 0) -> bootstrap_pb2.Bootstrap:
    boot = ads_bootstrap("infra/edge", "127.0.0.1", _free_port(), admin_port=admin_port, node_id="test-node")
    for source in (boot.dynamic_resources.lds_config, boot.dynamic_resources.cds_config):
        source.initial_fetch_timeout.seconds = 1
    return boot


async def _wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
def fake_envoy(tmp_path: Path) -> str:
    script = tmp_path / "fake-envoy"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).with_name('fake_envoy.py')} \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.mark.envoy
def test_start_restart_stop(envoy_binary: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        m = ManagedEnvoy("infra/edge", _bootstrap(), tmp_path, envoy_binary=envoy_binary,
                         restart_backoff=(0.1, 1.0))
        try:
            await m.start()
            first = m.pid
            assert first is not None and m.restarts == 0
            url = m.admin_url
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
            assert (await m.admin_get("/ready")).strip() == "LIVE"
            info = await m.admin_get("/server_info")
            assert '"test-node"' in info and "infra/edge" in info
            assert '"cluster_manager.cds.update_attempt"' not in info
            clusters = await m.admin_get("/clusters")
            assert XDS_CLUSTER in clusters
            with pytest.raises(EnvoyAdminError) as err:
                await m.admin_get("/no-such-admin-path")
            assert err.value.status == 404
            assert m.config_path.is_file() and m.log_path.is_file()

            os.kill(first, signal.SIGKILL)
            await _wait_for(lambda: m.pid not in (None, first), 10, "a new Envoy")
            await m.wait_ready(20)
            assert m.restarts == 1
            assert m.pid != first and _gone(first)
            assert m.admin_url == url  # the learned admin port is kept across restarts
            assert (await m.admin_get("/ready")).strip() == "LIVE"
            second = m.pid
        finally:
            await m.stop()
        assert second is not None and _gone(second)
        assert not Path(f"/proc/{second}").exists()
        assert m.pid is None
        await m.stop()  # idempotent

    run(scenario())


@pytest.mark.envoy
def test_fixed_admin_port(envoy_binary: str, tmp_path: Path) -> None:
    port = _free_port()

    async def scenario() -> None:
        async with ManagedEnvoy("fixed", _bootstrap(admin_port=port), tmp_path, envoy_binary=envoy_binary) as m:
            assert m.admin_url == f"http://127.0.0.1:{port}"
            assert (await m.admin_get("/ready")).strip() == "LIVE"
            pid = m.pid
        assert pid is not None and _gone(pid)

    run(scenario())


@pytest.mark.envoy
def test_stop_during_restart_backoff(envoy_binary: str, tmp_path: Path) -> None:
    """Envoy dies, and stop() comes while the supervisor waits to restart it: nothing new starts."""

    async def scenario() -> None:
        m = ManagedEnvoy("gw", _bootstrap(), tmp_path, envoy_binary=envoy_binary, restart_backoff=(5.0, 5.0))
        await m.start()
        pid = m.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await _wait_for(lambda: m.pid is None, 5, "Envoy to die")
        started = time.monotonic()
        await m.stop()
        assert time.monotonic() - started < 2
        assert m.restarts == 0 and m.pid is None and _gone(pid)

    run(scenario())


@pytest.mark.envoy
def test_start_failure_reports_envoy_message(envoy_binary: str, tmp_path: Path) -> None:
    boot = _bootstrap()
    boot.static_resources.clusters.append(boot.static_resources.clusters[0])  # a duplicate name

    async def scenario() -> None:
        m = ManagedEnvoy("broken", boot, tmp_path, envoy_binary=envoy_binary)
        with pytest.raises(EnvoyStartError) as err:
            await m.start()
        message = str(err.value)
        assert "duplicate cluster" in message, message
        assert "exited with status" in message
        pid = int(re.search(r"pid (\d+)", message).group(1))  # type: ignore[union-attr]
        assert _gone(pid)
        assert m.pid is None
        await m.stop()

    run(scenario())


def test_missing_binary(tmp_path: Path) -> None:
    async def scenario() -> None:
        m = ManagedEnvoy("gw", _bootstrap(), tmp_path, envoy_binary=str(tmp_path / "no-envoy-here"))
        with pytest.raises(OSError):
            await m.start()
        assert m.pid is None

    run(scenario())


def test_admin_url_before_start(tmp_path: Path) -> None:
    m = ManagedEnvoy("gw", _bootstrap(), tmp_path)
    assert m.pid is None and m.restarts == 0
    with pytest.raises(RuntimeError, match="not started"):
        _ = m.admin_url
    with pytest.raises(EnvoyStartError):
        run(m.wait_ready(1))


def test_stop_kills_a_child_that_ignores_sigterm(fake_envoy: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_ENVOY_IGNORE_TERM", "1")

    async def scenario() -> None:
        m = ManagedEnvoy("stubborn", _bootstrap(), tmp_path, envoy_binary=fake_envoy)
        await m.start()
        pid = m.pid
        assert pid is not None and (await m.admin_get("/ready")).strip() == "LIVE"
        started = time.monotonic()
        await m.stop(timeout=0.5)
        assert 0.4 < time.monotonic() - started < 5
        assert _gone(pid)

    run(scenario())


def test_crash_loop_backs_off_and_stops_cleanly(fake_envoy: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An Envoy that keeps dying is restarted again and again, each wait longer (up to the max)."""
    monkeypatch.setenv("FAKE_ENVOY_LIFETIME", "0.3")

    async def scenario() -> None:
        m = ManagedEnvoy("flaky", _bootstrap(), tmp_path, envoy_binary=fake_envoy, restart_backoff=(0.1, 0.4))
        await m.start()
        started = time.monotonic()
        pids = {m.pid}
        await _wait_for(lambda: (pids.add(m.pid), m.restarts >= 4)[1], 20, "four restarts")
        assert time.monotonic() - started >= 0.1 + 0.2 + 0.4 + 0.4  # the backoffs, doubling up to the max
        pids.discard(None)
        assert len(pids) >= 4
        await m.stop()
        for pid in pids:
            assert pid is not None and _gone(pid)

    run(scenario())


def test_start_timeout_kills_the_child(fake_envoy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Envoy that never says LIVE in time: start() fails and leaves no process."""
    monkeypatch.setenv("FAKE_ENVOY_IGNORE_TERM", "1")
    hang = tmp_path / "hang-envoy"
    hang.write_text("#!/bin/sh\necho hanging; exec sleep 60\n")
    hang.chmod(0o755)

    async def scenario() -> None:
        m = ManagedEnvoy("hang", _bootstrap(admin_port=_free_port()), tmp_path, envoy_binary=str(hang))
        with pytest.raises(EnvoyStartError, match=r"(?s)not LIVE after 1s.*hanging"):
            await m.start(timeout=1)
        assert m.pid is None

    run(scenario())
