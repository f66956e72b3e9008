"""A proxy's NACK shows in the API: a provisioned Envoy that cannot bind a listener (its port
held by another process) rejects the config, and meshgate writes the Gateway's Programmed
condition False (reason AddressNotUsable, Envoy's error in the message) and the listener's; once
the Gateway is fixed and the proxy ACKs, Programmed is True again. Traffic on the listener that
worked never stopped."""

from __future__ import annotations

import socket
from pathlib import Path

from .harness import (
    NAMESPACE,
    PORT,
    Cluster,
    cluster,
    create_web,
    echo,
    free_port,
    gateway,
    kubelet,
    run,
    serving,
    wait_for,
)

HELD = PORT + 1



async def programmed(c: Cluster, status: str) -> dict | None:
    cond = await c.condition("Gateway", "gw", "Programmed")
    return cond if cond is not None and cond["status"] == status else None


def test_a_nack_turns_programmed_false_in_the_api_and_a_fix_turns_it_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"), socket.socket() as held:
                await create_web(c)
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


def test_a_nack_on_a_proxy_of_the_other_replica_reaches_the_leaders_status(tmp_path: Path) -> None:
    """Only the leader writes status, but the proxy is connected to the other replica: that
    replica publishes its proxies' NACKs (cluster/proxy_answers.py) and the leader writes them."""
    from .test_leader_handover import replica, status_writes

    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"), socket.socket() as held:
                await create_web(c)
                port_a, port_b = free_port(), free_port()
                kube_a, kube_b = replica(c, tmp_path, "replica-a"), replica(c, tmp_path, "replica-b")
                async with serving(c, port_a, kubeconfig=kube_a, pod="replica-a", proxy_xds_port=port_b) as a:
                    await wait_for(a, "replica-a holds the lease")
                    async with serving(c, port_b, kubeconfig=kube_b, pod="replica-b", proxy_xds_port=port_b) as b, \
                            kubelet(c):
                        await wait_for(b, "metrics and debug on")
                        assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                        await wait_for(b, "connected")  # the proxy is replica-b's (the leader provisioned it so)
                        await c.until("Programmed True", lambda: programmed(c, "True"))
                        held.bind((f"{c.base}.1", HELD))
                        held.listen()
                        listeners = gateway(c.base)["spec"]["listeners"]
                        await c.patch("Gateway", NAMESPACE, "gw", {"spec": {"listeners": [
                            *listeners, {"name": "other", "port": HELD, "protocol": "HTTP"}]}})
                        refused = await c.until("Programmed False", lambda: programmed(c, "False"))
                        assert refused["reason"] == "AddressNotUsable" and "rejected LDS" in refused["message"]
                        await c.patch("Gateway", NAMESPACE, "gw", {"spec": {"listeners": listeners}})
                        await c.until("Programmed True again", lambda: programmed(c, "True"))
                        assert status_writes(c, "replica-b") == 0  # the leader wrote it all

    run(scenario())
