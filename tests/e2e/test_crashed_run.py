"""A run of a workdir stops the Envoys an earlier, crashed run of it left running, then serves
through its own; a second run of a workdir in use is refused and stops nothing."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from meshgate.envoy.bootstrap import ads_bootstrap
from meshgate.envoy.process import ManagedEnvoy
from meshgate.runtime.run import Runner, RunOptions

from ..system_checks import alive, wait_until
from .harness import GATEWAY, Scenario

pytestmark = pytest.mark.envoy


async def _crashed_run(workdir: Path) -> ManagedEnvoy:
    """An Envoy for the Gateway started as `meshgate run` starts it, in `workdir`, whose run then
    ends without stopping it (the loop goes away, nothing is cleaned up). Its control plane is
    gone too: the bootstrap names a port nothing listens on, with short initial fetch timeouts."""
    boot = ads_bootstrap(GATEWAY, "127.0.0.1", 1, node_id="crashed-run")
    for source in (boot.dynamic_resources.lds_config, boot.dynamic_resources.cds_config):
        source.initial_fetch_timeout.seconds = 1
    envoy = ManagedEnvoy(GATEWAY, boot, workdir)
    await envoy.start()
    return envoy


def test_a_new_run_stops_what_a_crashed_run_left(tmp_path: Path) -> None:
    sc = Scenario(tmp_path, delta=True)
    workdir = tmp_path / "work"
    # Held until the end: asyncio kills a child whose transport is garbage-collected.
    leftover = asyncio.run(asyncio.wait_for(_crashed_run(workdir), 60))
    old_pid = leftover.pid
    assert old_pid is not None and alive(old_pid)
    said: list[str] = []

    async def body() -> None:
        sc.start_echo(f"{sc.base}.11", 9001, "api-11")
        sc.start_echo(f"{sc.base}.13", 9002, "web-13")
        sc.runner = Runner(RunOptions([str(sc.dir)], xds_port=0, debug_port=0, workdir=workdir), say=said.append)
        try:
            await sc.runner.start()
            assert not alive(old_pid), f"the crashed run's Envoy {old_pid} still runs:\n" + "\n".join(said)
            assert (f"meshgate: stopped Envoy pid {old_pid} (gateway {GATEWAY}) left running by an earlier "
                    f"run of {workdir.absolute()}") in said
            reply = await sc.until(lambda r: r.status == 200, "/")
            assert reply.status == 200 and reply.pod == "web-13"
            new_pid = sc.runner.envoys[GATEWAY].pid
            assert new_pid is not None and new_pid != old_pid
        finally:
            await sc.stop()

    try:
        asyncio.run(asyncio.wait_for(body(), 120))
    finally:
        if alive(old_pid):
            os.kill(old_pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(old_pid), 5)


def test_a_second_run_of_a_workdir_in_use_is_refused(tmp_path: Path) -> None:
    from meshgate.runtime.workdir import WorkdirInUse

    sc = Scenario(tmp_path, delta=True)

    async def body() -> None:
        try:
            await sc.start()
            assert sc.runner is not None
            pid = sc.runner.envoys[GATEWAY].pid
            assert pid is not None
            other = Runner(RunOptions([str(sc.dir)], xds_port=0, debug_port=0, workdir=sc.runner.workdir),
                           say=lambda line: None)
            with pytest.raises(WorkdirInUse, match=f"in use by another meshgate run \\(pid {os.getpid()}\\)"):
                await other.start()
            await other.stop()
            assert other.envoys == {} and sc.runner.envoys[GATEWAY].pid == pid and alive(pid)
            assert (await sc.request("/")).status == 200
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(body(), 120))
