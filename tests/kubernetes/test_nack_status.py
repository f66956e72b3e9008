"""A proxy's NACK shows in the API: a provisioned Envoy that cannot bind a listener (its port
held by another process) rejects the config, and meshgate writes the Gateway's Programmed
condition False (reason AddressNotUsable, Envoy's error in the message) and the listener's; once
the Gateway is fixed and the proxy ACKs, Programmed is True again. Traffic on the listener that
worked never stopped."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from .harness import (
    NAMESPACE,
    PORT,
    Cluster,
    cluster,
    echo,
    endpoint_slice,
    free_port,
    gateway,
    kubelet,
    route,
    service,
    serving,
)

HELD = PORT + 1


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 120))


async def programmed(c: Cluster, status: str) -> dict | None:
    cond = await c.condition("Gateway", "gw", "Programmed")
    return cond if cond is not None and cond["status"] == status else None


def test_a_nack_turns_programmed_false_in_the_api_and_a_fix_turns_it_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"), socket.socket() as held:
                for obj in [gateway(c.base), *service("web", 9001),
                            endpoint_slice("web-1", "web", 9001, [f"{c.base}.11"]), route("web", "web")]:
                    await c.create(obj)
                async with serving(c, free_port()), kubelet(c):
                    assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                    before = await c.until("Programmed True", lambda: programmed(c, "True"))

                    # A second listener on a port another process holds: meshgate cannot know, Envoy NACKs.
                    held.bind((f"{c.base}.1", HELD))
                    held.listen()
                    listeners = gateway(c.base)["spec"]["listeners"]
                    await c.patch("Gateway", NAMESPACE, "gw", {"spec": {"listeners": [
                        *listeners, {"name": "other", "port": HELD, "protocol": "HTTP"}]}})
                    refused = await c.until("Programmed False", lambda: programmed(c, "False"))
                    assert refused["reason"] == "AddressNotUsable"
                    assert f"{c.base}.1:{HELD}" in refused["message"] and "rejected LDS" in refused["message"]
                    assert refused["lastTransitionTime"] >= before["lastTransitionTime"]
                    gw = await c.get("Gateway", NAMESPACE, "gw")
                    assert gw is not None
                    other = next(ls for ls in gw["status"]["listeners"] if ls["name"] == "other")
                    cond = next(x for x in other["conditions"] if x["type"] == "Programmed")
                    assert cond["status"] == "False" and f"port {HELD}" in cond["message"]
                    # The last accepted config stays in force.
                    assert (await c.request("/")).pod == "web-1"

                    # Fixed: the listener removed, the proxy ACKs, Programmed is True again.
                    await c.patch("Gateway", NAMESPACE, "gw", {"spec": {"listeners": listeners}})
                    again = await c.until("Programmed True again", lambda: programmed(c, "True"))
                    assert again["reason"] == "Programmed"
                    gw = await c.get("Gateway", NAMESPACE, "gw")
                    assert gw is not None and [ls["name"] for ls in gw["status"]["listeners"]] == ["http"]
                    assert (await c.request("/")).pod == "web-1"

    run(scenario())
