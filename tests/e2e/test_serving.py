"""meshgate serving a real Envoy: routing, live reload, endpoint changes, bad files, restarts.

Delta and State-of-the-World ADS are both run. Each test polls with a bounded deadline (how
fast changes land is measured by bench/push.py, not here).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.xds.server import AggregatedDiscoveryService, start_server

from .harness import Scenario, config

pytestmark = pytest.mark.envoy


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


@pytest.fixture(params=["delta", "sotw"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


async def _with(tmp: Path, protocol: str, body) -> None:
    sc = Scenario(tmp, delta=protocol == "delta")
    try:
        await sc.start()
        await body(sc)
    finally:
        await sc.stop()


def test_routes_requests_to_the_right_backends(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        api = await sc.request("/api/items?x=1")
        assert api.status == 200 and api.pod == "api-11"
        assert api.body["path"] == "/api/items?x=1"
        assert api.header("x-routed-by") == ["meshgate"]
        web = await sc.request("/index.html")
        assert web.status == 200 and web.pod == "web-13"
        assert web.header("x-routed-by") == []
        (stream,) = sc.runner.registry.all()
        assert stream.protocol == protocol and stream.gateway == "e2e/gw"
    run(_with(tmp_path, protocol, body))


def test_edited_route_file_changes_routing_without_restarting_envoy(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        envoy = sc.runner.envoys["e2e/gw"]
        pid = envoy.pid
        sc.write({"routes.yaml": config(sc.base, sc.web, api_header="edited")["routes.yaml"]})
        reply = await sc.until(lambda r: r.header("x-routed-by") == ["edited"], "/api")
        assert reply.header("x-routed-by") == ["edited"]
        assert envoy.pid == pid and envoy.restarts == 0
    run(_with(tmp_path, protocol, body))


def test_added_and_removed_endpoints_are_served(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        new = f"{sc.base}.14"
        sc.start_echo(new, 9002, "web-14")
        sc.write({"web.yaml": config(sc.base, [sc.web[0], new])["web.yaml"]})
        reply = await sc.until(lambda r: r.pod == "web-14", "/")
        assert reply.pod == "web-14"
        assert sc.runner.control.metrics.translate_seconds.labels("endpoints")._sum.get() > 0
        # Remove the first endpoint: after the change lands, only the new one answers.
        sc.write({"web.yaml": config(sc.base, [new])["web.yaml"]})
        before = len(sc.echoes[sc.web[0]].requests_seen)
        await sc.until(lambda r: False, "/", timeout=0.0)
        settled = False
        for _ in range(100):  # bounded: up to ~5 s
            pods = {(await sc.request("/")).pod for _ in range(6)}
            if pods == {"web-14"}:
                settled = True
                break
            await asyncio.sleep(0.05)
        assert settled, "the removed endpoint still receives traffic"
        assert len(sc.echoes[sc.web[0]].requests_seen) >= before
    run(_with(tmp_path, protocol, body))


def test_broken_file_leaves_traffic_flowing(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        (sc.dir / "routes.yaml").write_text("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nspec: [\n")
        (sc.dir / "api.yaml").write_text((sc.dir / "api.yaml").read_text().replace("port: 80,", "port: 0,"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while not sc.runner.control.errors and loop.time() < deadline:
            await asyncio.sleep(0.05)
        problems = {(Path(e.file).name, e.field) for e in sc.runner.control.errors}
        assert ("routes.yaml", "") in problems
        assert ("api.yaml", "spec.ports[0].port") in problems
        await asyncio.sleep(0.3)  # past the debounce: the broken files were applied
        api = await sc.request("/api")
        web = await sc.request("/")
        assert (api.status, api.pod) == (200, "api-11")
        assert (web.status, web.pod) == (200, "web-13")
    run(_with(tmp_path, protocol, body))


def test_control_plane_restart_leaves_traffic_flowing_and_envoy_reconnects(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        runner = sc.runner
        port = runner.xds_port
        await runner.server.stop(grace=None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while runner.registry.all() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert not runner.registry.all()
        # Envoy keeps serving what it has.
        assert (await sc.request("/api")).pod == "api-11"
        # A new server on the same port: Envoy reconnects by itself.
        service = AggregatedDiscoveryService(runner.cache, runner.registry, runner.metrics)
        runner.server, _ = await start_server(service, "127.0.0.1", port)
        deadline = loop.time() + 30  # Envoy's reconnect backoff
        while not runner.registry.all() and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert [s.gateway for s in runner.registry.all()] == ["e2e/gw"]
        # And takes new config from it.
        sc.write({"routes.yaml": config(sc.base, sc.web, api_header="after-restart")["routes.yaml"]})
        reply = await sc.until(lambda r: r.header("x-routed-by") == ["after-restart"], "/api")
        assert reply.header("x-routed-by") == ["after-restart"]
    run(_with(tmp_path, protocol, body))
