"""State of the World through a real Envoy: an endpoint change sends only its assignment.

Among many Services, the endpoints of one move, then another Service goes: Envoy is sent (and
counts, in each cluster's `update_success`) only the assignment that changed, every other
Service keeps answering from its own backend throughout, and the one that moved answers from
its new one. The removed Service's cluster leaves through CDS; its assignment with it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.xds.clusters import stat_name
from meshgate.xds.resources import ENDPOINT

from .harness import Scenario, endpoint_yaml, service_yaml

pytestmark = pytest.mark.envoy

SERVICES = 12
MOVED = 5  # the Service whose endpoints move
REMOVED = 11  # the Service that goes
PORT = 9100
WEB_POD = "web-13"  # the Scenario's web backend


def name(i: int) -> str:
    return f"s{i:02d}"


def cluster(i: int) -> str:
    return f"outbound|80||{name(i)}.e2e.svc.cluster.local"


def files(address: str, i: int, pod: str) -> str:
    """Service i (one endpoint, `address`, Pod `pod`) and an HTTPRoute /nII to it."""
    return service_yaml(name(i), 80, PORT, [endpoint_yaml(address, pod=pod, ready=True)]) + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name(i)}, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /n{i:02d}}}}}]
    backendRefs: [{{name: {name(i)}, port: 80}}]
"""


async def update_successes(sc: Scenario) -> dict[str, int]:
    """Each cluster's `update_success` in Envoy, by its statistics name: the EDS updates it applied."""
    assert sc.runner is not None
    (envoy,) = sc.runner.envoys.values()
    text = await envoy.admin_get("/stats?filter=update_success$")
    out = {}
    for line in text.splitlines():
        stat, _, value = line.rpartition(": ")
        if stat.startswith("cluster.outbound|"):
            out[stat.removeprefix("cluster.").removesuffix(".update_success")] = int(value)
    return out


async def eds_acked(sc: Scenario, timeout: float = 10.0) -> bool:
    """Wait (bounded) until the proxy has answered the last EDS response with an ACK."""
    assert sc.runner is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        streams = sc.runner.registry.all()
        ts = streams[0].types.get(ENDPOINT) if len(streams) == 1 else None
        if ts is not None and ts.nonce and ts.acked_nonce == ts.nonce and not ts.nack:
            return True
        await asyncio.sleep(0.05)
    return False


class Traffic:
    """Requests to every Service in turn while config moves; what did not answer 200."""

    def __init__(self, sc: Scenario, paths: list[str]) -> None:
        self.sc, self.paths = sc, paths
        self.requests = 0
        self.failed: list[tuple[str, int]] = []
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self._stop.is_set():
            for path in self.paths:
                reply = await self.sc.request(path)
                self.requests += 1
                if reply.status != 200:
                    self.failed.append((path, reply.status))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.wait_for(self._task, 30)


def test_sotw_endpoint_change_sends_one_assignment_and_loses_nothing(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=False)
        address = {i: f"{sc.base}.{40 + i}" for i in range(SERVICES)}
        sc.write({f"{name(i)}.yaml": files(address[i], i, f"{name(i)}-a") for i in range(SERVICES)})
        for i in range(SERVICES):
            sc.start_echo(address[i], PORT, f"{name(i)}-a")
        try:
            await sc.start()
            for i in range(SERVICES):
                reply = await sc.until(lambda r, i=i: r.pod == f"{name(i)}-a", f"/n{i:02d}")
                assert (reply.status, reply.pod) == (200, f"{name(i)}-a")
            assert await eds_acked(sc)
            before = await update_successes(sc)
            assert set(before) == {stat_name(c) for c in [cluster(i) for i in range(SERVICES)] + [
                "outbound|80||api.e2e.svc.cluster.local", "outbound|80||web.e2e.svc.cluster.local"]}

            # s05's endpoint moves to a new backend, under traffic to every Service.
            kept = [f"/n{i:02d}" for i in range(SERVICES) if i != REMOVED] + ["/", "/api"]
            traffic = Traffic(sc, kept + [f"/n{REMOVED:02d}"])
            moved = f"{sc.base}.{40 + SERVICES}"
            sc.start_echo(moved, PORT, f"{name(MOVED)}-b")
            sc.write({f"{name(MOVED)}.yaml": files(moved, MOVED, f"{name(MOVED)}-b")})
            reply = await sc.until(lambda r: r.pod == f"{name(MOVED)}-b", f"/n{MOVED:02d}")
            assert (reply.status, reply.pod) == (200, f"{name(MOVED)}-b")
            assert await eds_acked(sc)
            await traffic.stop()
            assert traffic.failed == [], f"{len(traffic.failed)} of {traffic.requests} failed: {traffic.failed[:5]}"
            after = await update_successes(sc)
            # Envoy applied the moved Service's assignment, and no other: nothing else was resent.
            moved_stats = stat_name(cluster(MOVED))
            assert after[moved_stats] > before[moved_stats]
            assert {c: n for c, n in after.items() if c != moved_stats} == {
                c: n for c, n in before.items() if c != moved_stats}

            # s11 goes (its file deleted): its route and cluster leave; every other Service answers.
            traffic = Traffic(sc, kept)
            (sc.dir / f"{name(REMOVED)}.yaml").unlink()
            # (The route to web takes every path no other route does.)
            reply = await sc.until(lambda r: r.pod == WEB_POD, f"/n{REMOVED:02d}")
            assert (reply.status, reply.pod) == (200, WEB_POD)
            await traffic.stop()
            assert traffic.failed == [], f"{len(traffic.failed)} of {traffic.requests} failed: {traffic.failed[:5]}"
            assert await eds_acked(sc)
            assert sc.runner is not None
            (envoy,) = sc.runner.envoys.values()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while cluster(REMOVED) in await envoy.admin_get("/clusters") and loop.time() < deadline:
                await asyncio.sleep(0.05)
            assert cluster(REMOVED) not in await envoy.admin_get("/clusters")
            for i in range(SERVICES):
                if i != REMOVED:
                    pod = f"{name(i)}-b" if i == MOVED else f"{name(i)}-a"
                    reply = await sc.request(f"/n{i:02d}")
                    assert (reply.status, reply.pod) == (200, pod)
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(body(), 180))
