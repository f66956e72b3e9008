"""Two replicas, the leader killed (SIGKILL): the other takes the Lease within the lease duration
and writes the status that changed meanwhile; only the leader ever writes status (writes counted
per replica by the API emulator); conditions keep their lastTransitionTime across the handover.
The handover time (from the kill to the new holder in the Lease, and to its first status write)
is printed, not asserted (bench/status_writes.py measures it too)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from ..kubeapi.kubeconfig import write_kubeconfig
from .harness import (
    NAMESPACE,
    SYSTEM,
    Cluster,
    cluster,
    create_web,
    echo,
    free_port,
    kubelet,
    path,
    route,
    run,
    serving,
    wait_for,
)

STATUS_WRITES = ("PATCH", "PUT")
LEASE_DURATION = 3.0  # the harness's --lease-duration



def replica(c: Cluster, tmp: Path, name: str) -> Path:
    """A kubeconfig of its own for replica `name`, so the emulator counts its requests apart."""
    c.emulator.add_user(f"token-{name}", name)
    return write_kubeconfig(tmp / f"kubeconfig-{name}", c.emulator.url, f"token-{name}")


def status_writes(c: Cluster, who: str, suffix: str = "/status") -> int:
    return c.emulator.count(methods=STATUS_WRITES, suffix=suffix, user=who)


async def holder(c: Cluster) -> str:
    lease = await c.get("Lease", SYSTEM, "meshgate")
    return str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")


async def accepted_route(c: Cluster, name: str) -> dict | None:
    cond = await c.condition("HTTPRoute", name, "Accepted")
    return cond if cond is not None and cond["status"] == "True" else None


def test_the_other_replica_takes_over_when_the_leader_is_killed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"):
                await create_web(c)
                port_a, port_b = free_port(), free_port()
                kube_a, kube_b = replica(c, tmp_path, "replica-a"), replica(c, tmp_path, "replica-b")
                async with (serving(c, port_a, kubeconfig=kube_a, pod="replica-a") as a, kubelet(c)):
                    await wait_for(a, "replica-a holds the lease")
                    # Both replicas render the proxies' bootstrap alike (as they would with the
                    # meshgate Service's address): the proxy stays with replica-a's port.
                    async with serving(c, port_b, kubeconfig=kube_b, pod="replica-b", proxy_xds_port=port_a) as b:
                        await wait_for(b, "metrics and debug on")
                        assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                        gw_programmed = await c.until("Gateway Programmed", lambda: _gateway_programmed(c))
                        web_accepted = await c.until("web Accepted", lambda: accepted_route(c, "web"))
                        # A change while both run: the leader alone writes its status.
                        await c.create(route("early", "web", "/early"))
                        await c.until("early Accepted", lambda: accepted_route(c, "early"))
                        assert status_writes(c, "replica-a") > 0
                        assert status_writes(c, "replica-b") == 0
                        assert await holder(c) == "replica-a"

                        loop = asyncio.get_running_loop()
                        killed = loop.time()
                        a.proc.kill()
                        await c.create(route("late", "web", "/late"))  # status to write, and no leader
                        taken = await _first(c, lambda: _holder_is(c, "replica-b"), 4 * LEASE_DURATION) - killed
                        written = await _first(c, lambda: _wrote(c, "replica-b"), 4 * LEASE_DURATION) - killed
                        print(f"\nhandover: Lease held by replica-b {taken:.2f} s after the SIGKILL of the leader; "
                              f"its first status write {written:.2f} s after (lease duration {LEASE_DURATION:g} s)")
                        await c.until("late Accepted", lambda: accepted_route(c, "late"))
                        assert await wait_for(b, "replica-b holds the lease")

                        # No flapping: the conditions that held kept their transition times, and the
                        # new leader rewrote only what differed (not the status replica-a left).
                        again = await _gateway_programmed(c)
                        assert again is not None and again["lastTransitionTime"] == gw_programmed["lastTransitionTime"]
                        web_again = await accepted_route(c, "web")
                        assert web_again is not None
                        assert web_again["lastTransitionTime"] == web_accepted["lastTransitionTime"]
                        assert status_writes(c, "replica-b", path("HTTPRoute", NAMESPACE, "web") + "/status") == 0
                        assert status_writes(c, "replica-b", path("HTTPRoute", NAMESPACE, "late") + "/status") >= 1
                        # Traffic never depended on the leader: the proxy kept its config.
                        assert (await c.request("/late/x")).pod == "web-1"

    run(scenario())


async def _gateway_programmed(c: Cluster) -> dict | None:
    cond = await c.condition("Gateway", "gw", "Programmed")
    return cond if cond is not None and cond["status"] == "True" else None


async def _holder_is(c: Cluster, who: str) -> bool:
    with contextlib.suppress(Exception):
        return await holder(c) == who
    return False


async def _wrote(c: Cluster, who: str) -> bool:
    return status_writes(c, who) > 0


async def _first(c: Cluster, probe: Any, timeout: float, step: float = 0.02) -> float:
    """The loop time at which `probe()` first holds (bounded by `timeout`; finer than c.until)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe():
            return loop.time()
        await asyncio.sleep(step)
    raise AssertionError(f"not within {timeout:g} s")
