"""No change is lost in a gap of meshgate's watches: changes made while its watches are down
reach a provisioned Envoy afterwards, whether its watches resume from the API's history, find
that history compacted (410 Gone: meshgate lists again and the list's diff synthesizes the deletes
it missed), or resume after the API server restarted (a subprocess with its state file) with
changes made meanwhile (as through another API server sharing its storage)."""

from __future__ import annotations

from pathlib import Path

from ..kubeapi.server import Emulator
from .harness import (
    NAMESPACE,
    Cluster,
    cluster,
    echo,
    endpoint_slice,
    free_port,
    gateway,
    kubelet,
    route,
    run,
    service,
    serving,
    wait_for,
)

HTTPROUTES = ("gateway.networking.k8s.io", "v1", "httproutes")



def quietly(emulator: Emulator, create: list[dict], delete: list[str], compact: bool = False) -> None:
    """Drop every watch, then create and delete HTTPRoutes (and compact the history), all without
    yielding to the event loop: no watch of meshgate's can see these changes as they happen."""
    emulator.drop_watches()
    rtype = emulator.registry.lookup(*HTTPROUTES)
    assert rtype is not None
    for obj in create:
        emulator.verbs.create(rtype, NAMESPACE, obj)
    for name in delete:
        emulator.verbs.delete(rtype, NAMESPACE, name)
    if compact:
        emulator.compact()


async def populate(c: Cluster) -> None:
    """A Gateway, the Services web and api with their endpoints, and two routes: / → web, /old → api."""
    web, api = f"{c.base}.11", f"{c.base}.12"
    for obj in [gateway(c.base), *service("web", 9001), *service("api", 9001),
                endpoint_slice("web-1", "web", 9001, [web]), endpoint_slice("api-1", "api", 9001, [api]),
                route("web", "web"), route("old", "api", "/old")]:
        await c.create(obj)


async def pod_at(c: Cluster, route_path: str, pod: str) -> None:
    """Wait until GET route_path through the provisioned Envoy is answered by `pod`."""
    assert (await c.until_reply(route_path, lambda r: r.pod == pod)).status == 200


def test_changes_while_watches_are_dropped_or_compacted_away_are_served(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"), echo(f"{c.base}.12", 9001, "api-1"):
                await populate(c)
                async with serving(c, free_port()) as mg, kubelet(c):
                    await pod_at(c, "/old/x", "api-1")

                    # Watches dropped: meshgate resumes them from the history and sees both changes.
                    quietly(c.emulator, [route("dropped", "api", "/dropped")], ["old"])
                    await pod_at(c, "/dropped/x", "api-1")
                    await pod_at(c, "/old/x", "web-1")  # the delete: / answers it now
                    assert "410 Gone" not in mg.text

                    # Dropped and the history compacted: the resume gets 410 Gone, meshgate lists
                    # again, and the list's diff with what it held is the delete it never saw.
                    quietly(c.emulator, [route("relisted", "api", "/relisted")], ["dropped"], compact=True)
                    await pod_at(c, "/relisted/x", "api-1")
                    await pod_at(c, "/dropped/x", "web-1")
                    await wait_for(mg, "HTTPRoute: resourceVersion")
                    assert "(410 Gone): listing again" in mg.text
                    # And the status of what it re-listed is written.
                    await c.until("relisted Accepted", lambda: c.condition("HTTPRoute", "relisted", "Accepted"))

    run(scenario())


def test_changes_across_an_api_server_restart_are_served(tmp_path: Path) -> None:
    async def scenario() -> None:
        state = tmp_path / "etcd.json"
        async with cluster(tmp_path, process=True, state_file=state) as c:
            with echo(f"{c.base}.11", 9001, "web-1"), echo(f"{c.base}.12", 9001, "api-1"):
                await populate(c)
                async with serving(c, free_port()) as mg, kubelet(c):
                    await pod_at(c, "/old/x", "api-1")
                    assert c.emulated is not None
                    await c.emulated.stop()  # SIGTERM: it saves its state; meshgate's watches end
                    # Meanwhile, through another API server over the same storage: a route
                    # created and one deleted (recorded in the history, as etcd would).
                    other = Emulator(state_file=state)
                    rtype = other.registry.lookup(*HTTPROUTES)
                    assert rtype is not None
                    other.verbs.create(rtype, NAMESPACE, route("meanwhile", "api", "/meanwhile"))
                    other.verbs.delete(rtype, NAMESPACE, "old")
                    other.save()
                    await c.emulated.start()  # the same port, the state as left
                    await pod_at(c, "/meanwhile/x", "api-1")
                    await pod_at(c, "/old/x", "web-1")
                    accepted = await c.until("meanwhile Accepted",
                                             lambda: c.condition("HTTPRoute", "meanwhile", "Accepted"))
                    assert accepted["status"] == "True"
                    # It did lose the API server for a while, and listed again once it was back.
                    assert "HTTPRoute: GET" in mg.text and "; retrying" in mg.text
                    assert mg.text.count("HTTPRoute: 2 listed, watching") == 2

    run(scenario())
