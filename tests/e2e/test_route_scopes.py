"""Route tables split per hostname (xds/scopes.py: Envoy's scoped routes, SRDS) through a real
Envoy, over Delta and State of the World: requests reach the route of their Host, route
precedence across HTTPRoutes of one hostname holds within its scope, a Host without routes gets
404, and the configuration moves between split and whole (a catch-all route added, then removed)
without losing a hostname. Route edits on one hostname under traffic cost no request, and
neither do edits that move the listener between split and whole under traffic (the connections
of the old filter chain drain on a route table that stays current).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm

from meshgate.xds.resources import LISTENER, ROUTE, SCOPED_ROUTE

from .churn import BLUE, GREEN, Load, churn, in_sync, prepare, route_yaml, routes_yaml
from .harness import GATEWAY, Reply, Scenario

pytestmark = pytest.mark.envoy

CHURN_SECONDS = 20.0
CHURN_RATE = 100.0
CHURN_INTERVAL = 1.0
FLIPS = 12


@pytest.fixture(params=["delta", "sotw"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


def route(name: str, hostnames: list[str], prefix: str, service: str, created: str = "") -> str:
    stamp = f', creationTimestamp: "{created}"' if created else ""
    hosts = f"\n  hostnames: {hostnames}" if hostnames else ""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: e2e{stamp}}}
spec:
  parentRefs: [{{name: gw}}]{hosts}
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]
    backendRefs: [{{name: {service}, port: 80}}]
"""


SPLIT_ROUTES = "---\n".join([
    route("a-root", ["a.example"], "/", "web"),
    route("a-api", ["a.example"], "/api", "api"),  # a longer prefix in another HTTPRoute wins
    # The same match in two HTTPRoutes: the older one wins.
    route("a-new", ["a.example"], "/same", "web", created="2021-01-01T00:00:00Z"),
    route("a-old", ["a.example"], "/same", "api", created="2020-01-01T00:00:00Z"),
    route("b", ["b.example"], "/", "api"),
])
CATCH_ALL = route("any", [], "/", "web")
# (Host, path) → the pod that must answer, or the status when no backend may.
SPLIT_EXPECTED: dict[tuple[str, str], str | int] = {
    ("a.example", "/"): "web-13",
    ("a.example", "/api/x"): "api-11",
    ("a.example", "/same"): "api-11",
    ("a.example:8080", "/api"): "api-11",  # the port is not part of the scope key
    ("b.example", "/"): "api-11",
    ("c.example", "/"): 404,
}


def host_get(url: str, host: str, timeout: float = 5.0) -> Reply:
    """One HTTP GET with `host` as its Host header."""
    req = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, json.loads(resp.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return Reply(0)


async def answers(sc: Scenario, expected: dict[tuple[str, str], str | int], timeout: float = 15.0
                  ) -> dict[tuple[str, str], str | int]:
    """Poll until every (Host, path) gets its expected answer (bounded); what each got last."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got: dict[tuple[str, str], str | int] = {}
        for host, path in expected:
            reply = await loop.run_in_executor(None, host_get, sc.url + path, host)
            got[(host, path)] = reply.pod if reply.status == 200 else reply.status
        if got == expected or loop.time() > deadline:
            return got
        await asyncio.sleep(0.1)


def served(sc: Scenario) -> tuple[set[str], set[str]]:
    """The route configurations and scopes meshgate serves the gateway."""
    assert sc.runner is not None
    entry = sc.runner.cache.entry(GATEWAY)
    return set(entry.resources[ROUTE]), set(entry.resources[SCOPED_ROUTE])


def scoped(sc: Scenario) -> bool:
    """Whether the gateway's listener uses scoped routes."""
    assert sc.runner is not None
    (resource,) = sc.runner.cache.entry(GATEWAY).resources[LISTENER].values()
    (chain,) = listener_pb2.Listener.FromString(resource.body.value).filter_chains
    manager = hcm.HttpConnectionManager()
    chain.filters[0].typed_config.Unpack(manager)
    return manager.HasField("scoped_routes")


def test_split_routing_precedence_and_moving_between_split_and_whole(tmp_path: Path, protocol: str) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=protocol == "delta")
        try:
            await sc.start()
            sc.write({"routes.yaml": SPLIT_ROUTES})
            assert await answers(sc, SPLIT_EXPECTED) == SPLIT_EXPECTED
            scopes = {"http.8080/a.example", "http.8080/b.example"}
            assert served(sc) == (scopes | {"http.8080"}, scopes)
            assert scoped(sc)

            # A catch-all route cannot be a scope: the configuration is served whole, and every
            # hostname keeps its routes.
            sc.write({"routes.yaml": SPLIT_ROUTES + "---\n" + CATCH_ALL})
            whole = {**SPLIT_EXPECTED, ("c.example", "/"): "web-13"}
            assert await answers(sc, whole) == whole
            assert not scoped(sc)

            sc.write({"routes.yaml": SPLIT_ROUTES})
            assert await answers(sc, SPLIT_EXPECTED) == SPLIT_EXPECTED
            assert scoped(sc)
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(body(), 120))


def test_route_edits_on_one_scope_under_traffic_cost_no_request(tmp_path: Path, protocol: str) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=protocol == "delta")
        try:
            await sc.start()
            prepare(sc, hostname="churn.example")
            sc.write({"others.yaml": "---\n".join(route(f"other-{i}", [f"other-{i}.example"], "/", "web")
                                                   for i in range(20))})
            ready = {("churn.example", "/move"): "blue-21", ("other-19.example", "/"): "web-13"}
            assert await answers(sc, ready) == ready
            routes, scopes = served(sc)
            assert "http.8080/churn.example" in scopes and len(scopes) == 21 and routes == scopes | {"http.8080"}
            assert scoped(sc)
            result = await churn(sc, CHURN_SECONDS, CHURN_RATE, CHURN_INTERVAL, hostname="churn.example")
            assert served(sc)[1] == scopes  # still split: the edits moved one scope's routes only
        finally:
            await sc.stop()
        print(result.line())
        assert result.edits >= 15
        assert result.requests >= 0.8 * CHURN_RATE * CHURN_SECONDS, "the request loop fell behind: " + result.line()
        assert result.failed == 0, f"{result.line()}; by path and status {result.statuses}; first {result.samples}"
        assert result.settled, "the proxy did not ACK the last edit: " + result.line()
        assert result.init_fetch_timeouts == 0 and result.warming_clusters == 0, result.line()

    asyncio.run(asyncio.wait_for(body(), 180))


def test_moving_between_split_and_whole_under_traffic_costs_no_request(tmp_path: Path, protocol: str) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=protocol == "delta")
        try:
            await sc.start()
            prepare(sc, hostname="churn.example")
            ready = {("churn.example", "/move"): "blue-21"}
            assert await answers(sc, ready) == ready
            load = Load(sc.url, CHURN_RATE, "churn.example")
            running = asyncio.create_task(load.run())
            forms = []
            for k in range(FLIPS):
                await asyncio.sleep(CHURN_INTERVAL)
                # Each edit moves `move` to the other Service (the old one loses its cluster) and
                # adds or removes a catch-all route, which moves the listener to the other form.
                text = routes_yaml(GREEN.service if k % 2 == 0 else BLUE.service, False, "churn.example")
                if k % 2 == 0:
                    text += "---\n" + route_yaml("any", "/any", "web")
                sc.write({"routes.yaml": text})
                await asyncio.sleep(CHURN_INTERVAL / 2)
                forms.append(scoped(sc))
            await asyncio.sleep(CHURN_INTERVAL)
            load.stop()
            await running
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 25
            while not in_sync(sc) and loop.time() < deadline:
                await asyncio.sleep(0.1)
            settled = in_sync(sc)
        finally:
            await sc.stop()
        print(f"{protocol}: {load.failed} failed / {load.done} requests over {FLIPS} edits, forms {forms}")
        assert forms == [False, True] * (FLIPS // 2)
        assert load.done >= 0.8 * CHURN_RATE * FLIPS * CHURN_INTERVAL * 1.5
        assert load.failed == 0, f"{load.failed} failed of {load.done}: {dict(load.statuses)}; first {load.samples}"
        assert settled

    asyncio.run(asyncio.wait_for(body(), 180))
