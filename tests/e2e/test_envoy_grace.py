"""A Gateway that vanishes keeps its Envoy for the grace period: a file truncated and rewritten
(`cmd > gateway.yaml`) keeps the same Envoy process, which serves again; a Gateway really
deleted has its Envoy stopped once the grace period is over, and its port freed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from meshgate.runtime.run import Runner, RunOptions

from ..system_checks import alive, can_bind
from .harness import GATEWAY, LISTEN_PORT, Scenario

pytestmark = pytest.mark.envoy


async def _start(sc: Scenario, said: list[str], **options: object) -> Runner:
    sc.start_echo(f"{sc.base}.11", 9001, "api-11")
    sc.start_echo(f"{sc.base}.13", 9002, "web-13")
    sc.runner = Runner(RunOptions([str(sc.dir)], xds_port=0, debug_port=0, workdir=sc.dir.parent / "work",
                                  **options), say=said.append)  # type: ignore[arg-type]
    await sc.runner.start()
    assert (await sc.until(lambda r: r.status == 200, "/")).status == 200
    return sc.runner


async def _until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _has_gateway(runner: Runner) -> bool:
    return GATEWAY in {c.key for c in runner.control.configs}


def test_a_gateway_file_rewritten_in_place_keeps_its_envoy(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        said: list[str] = []
        try:
            runner = await _start(sc, said)  # the default grace period
            pid = runner.envoys[GATEWAY].pid
            assert pid is not None
            gateway_file = sc.dir / "gateway.yaml"
            text = gateway_file.read_text()
            os.truncate(gateway_file, 0)  # `cmd > gateway.yaml`: truncated first ...
            await _until(lambda: not _has_gateway(runner), 10, "the empty file to drop the Gateway")
            await asyncio.sleep(0.3)
            gateway_file.write_text(text)  # ... and written 0.3 s after the Gateway vanished
            await _until(lambda: _has_gateway(runner), 10, "the Gateway to come back")
            await _until(lambda: runner.envoys.get(GATEWAY) is not None and runner.envoys[GATEWAY].pid is not None,
                         20, "an Envoy for the Gateway")
            assert runner.envoys[GATEWAY].pid == pid, "\n".join(said)
            reply = await sc.until(lambda r: r.status == 200, "/")
            assert reply.status == 200 and reply.pod == "web-13"
            assert runner.envoys[GATEWAY].pid == pid and runner.envoys[GATEWAY].restarts == 0
            assert f"gateway {GATEWAY}: gone; its Envoy stops in 5s unless it comes back" in said
            assert f"gateway {GATEWAY}: back within 5s, its Envoy kept" in said
            assert f"gateway {GATEWAY}: removed, its Envoy stopped" not in said
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(body(), 120))


def test_a_deleted_gateway_loses_its_envoy_after_the_grace_period(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        said: list[str] = []
        try:
            runner = await _start(sc, said)  # the default grace period, 5 s
            envoy = runner.envoys[GATEWAY]
            pid = envoy.pid
            assert pid is not None
            (sc.dir / "gateway.yaml").unlink()
            await _until(lambda: not _has_gateway(runner), 10, "the Gateway to vanish")
            # The runner's Envoy sync runs as a task of its own after the translation: wait for it.
            gone = f"gateway {GATEWAY}: gone; its Envoy stops in 5s unless it comes back"
            await _until(lambda: gone in said, 5, "the grace period to start")
            assert alive(pid) and runner.envoys.get(GATEWAY) is envoy  # still within the grace period
            stopped = f"gateway {GATEWAY}: removed, its Envoy stopped"
            await _until(lambda: stopped in said, 20, "the Envoy to be stopped")
            assert GATEWAY not in runner.envoys and not alive(pid)
            assert not envoy.record_path.exists()
            assert can_bind(f"{sc.base}.1", LISTEN_PORT)
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(body(), 120))
