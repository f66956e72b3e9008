"""The restart backoff of a real Envoy killed again and again: it doubles while Envoy keeps dying
soon after it starts, and is back to the initial delay once Envoy ran LIVE for the stable
period, by default 10 s (it was 60 s: an Envoy killed every 20 s waited 0.5, 1, 2, ... s).
The delay is read from what the supervisor chose, not from the clock."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from pathlib import Path

import pytest
from envoy.config.bootstrap.v3 import bootstrap_pb2

from meshgate.envoy.process import ManagedEnvoy

from .test_managed_envoy import _bootstrap as _managed_bootstrap
from .test_managed_envoy import _wait_for, run

pytestmark = pytest.mark.envoy


def _bootstrap() -> bootstrap_pb2.Bootstrap:
    """No control plane: LIVE after the initial fetches time out, here after 0.1 s each."""
    boot = _managed_bootstrap()
    for source in (boot.dynamic_resources.lds_config, boot.dynamic_resources.cds_config):
        source.initial_fetch_timeout.seconds, source.initial_fetch_timeout.nanos = 0, 100_000_000
    return boot


async def _kill_and_wait_restart(m: ManagedEnvoy) -> None:
    pid, restarts = m.pid, m.restarts
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await _wait_for(lambda: m.restarts > restarts and m.pid not in (None, pid), 30, "a restarted Envoy")
    await m.wait_ready(20)


def test_backoff_resets_after_the_default_stable_period(envoy_binary: str, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="meshgate.envoy.process")

    async def scenario() -> None:
        m = ManagedEnvoy("gw", _bootstrap(), tmp_path, envoy_binary=envoy_binary)  # backoff 0.5 s doubling
        try:
            await m.start()
            await _kill_and_wait_restart(m)
            await asyncio.sleep(10.5)  # LIVE for longer than the default stable period
            await _kill_and_wait_restart(m)
        finally:
            await m.stop()

    run(scenario())
    delays = re.findall(r"restarting in (\d+\.\d)s", caplog.text)
    assert delays == ["0.5", "0.5"], caplog.text


def test_backoff_doubles_in_a_crash_loop_and_resets_after_a_stable_run(envoy_binary: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        m = ManagedEnvoy("gw", _bootstrap(), tmp_path, envoy_binary=envoy_binary,
                         restart_backoff=(0.2, 5.0), stable_after=2.0)
        try:
            await m.start()
            assert m.last_restart_delay is None
            chosen = []
            for _ in range(3):  # killed as soon as it is LIVE: a crash loop
                await _kill_and_wait_restart(m)
                chosen.append(m.last_restart_delay)
            await asyncio.sleep(2.5)  # LIVE for longer than the stable period
            await _kill_and_wait_restart(m)
            chosen.append(m.last_restart_delay)
            await _kill_and_wait_restart(m)  # and killed again at once: doubling starts over
            chosen.append(m.last_restart_delay)
            assert chosen == [0.2, 0.4, 0.8, 0.2, 0.4]
            assert m.restarts == 5
        finally:
            await m.stop()

    run(scenario())
