"""A global limit holds across meshgate replicas sharing Redis, through a real Envoy: two rate limit
services (two gRPC servers, as two replicas have, each with its own RedisCounterStore on one
redis-server), both endpoints of Envoy's rate limit cluster (round robin, so each request may
reach either). A user allowed 3 requests an hour gets exactly 3 whichever replica counts them
(in memory each replica would allow 3 of its own). With Redis stopped the services answer errors
and Envoy lets requests through (meshgate's failure mode allow); with Redis back the limit holds
again. The stack is the static bootstrap of test_envoy_global_rate_limit.py."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from envoy.config.core.v3 import address_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2
from google.protobuf.json_format import MessageToJson

from meshgate.echo import EchoServer
from meshgate.envoy.binary import find_envoy
from meshgate.ratelimit.counters import Hit, Window
from meshgate.ratelimit.descriptors import route_key
from meshgate.ratelimit.limits import build_table
from meshgate.ratelimit.redis_counters import RedisCounterStore
from meshgate.ratelimit.service import RateLimitServicer

from ..e2e.harness import LISTEN_PORT, free_subnet
from .redis_server import RedisServer
from .test_envoy_global_rate_limit import DOMAIN, LIMITS, ROUTE_CONFIG, _free_port, _get, bootstrap, running_envoy

pytestmark = pytest.mark.envoy


class CountedStore(RedisCounterStore):
    """A replica's store, counting the requests that reached it."""

    calls = 0

    async def increment(self, hits: Sequence[Hit]) -> list[Window]:
        self.calls += 1
        return await super().increment(hits)


def test_two_replicas_sharing_redis_hold_one_limit(tmp_path: Path, redis_server: RedisServer) -> None:
    envoy = find_envoy()
    assert envoy is not None
    base = free_subnet()
    echo = EchoServer(f"{base}.11", 0, pod="echo", namespace="e2e")
    echo.start()
    table = build_table({DOMAIN: [(route_key(ROUTE_CONFIG, p), lim) for p, lim in LIMITS.items()]})

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def statuses(n: int, path: str, user: str = "") -> list[int]:
            headers = {"x-user": user} if user else {}
            return [(await loop.run_in_executor(None, _get, f"{base}.1", LISTEN_PORT, path, headers, "")).status
                    for _ in range(n)]

        stores: list[CountedStore] = []
        servers: list[grpc.aio.Server] = []
        ports = []
        for _ in range(2):  # two replicas: a servicer and a gRPC server each, one Redis
            store = CountedStore(redis_server.url)
            server = grpc.aio.server()
            RateLimitServicer(table, store).add_to_server(server)
            ports.append(server.add_insecure_port("127.0.0.1:0"))
            await server.start()
            stores.append(store)
            servers.append(server)
        boot = bootstrap(base, echo.port, ports[0], _free_port(), _free_port(socket.AF_INET6))
        rls = next(c for c in boot.static_resources.clusters if c.name == "rls")
        endpoints = rls.load_assignment.endpoints[0].lb_endpoints
        endpoints.append(endpoint_components_pb2.LbEndpoint(endpoint=endpoint_components_pb2.Endpoint(
            address=address_pb2.Address(socket_address=address_pb2.SocketAddress(
                address="127.0.0.1", port_value=ports[1])))))
        config = tmp_path / "envoy.json"
        config.write_text(MessageToJson(boot))
        log = tmp_path / "envoy.log"
        try:
            async with running_envoy(envoy, config, log) as proc:
                for _ in range(400):  # ready when a request through the filter comes back 200 (bounded)
                    assert proc.returncode is None, log.read_text()
                    if await statuses(1, "/warm") == [200]:
                        break
                    await asyncio.sleep(0.05)
                # Warm both replicas' connections to Redis and Envoy's to both replicas.
                assert await statuses(6, "/warm") == [200] * 6
                before = [s.calls for s in stores]

                # 3 an hour for alice, across both replicas.
                assert await statuses(8, "/users", "alice") == [200, 200, 200] + [429] * 5
                assert await statuses(3, "/users", "bob") == [200, 200, 200]
                assert all(s.calls > b for s, b in zip(stores, before, strict=True)), \
                    "Envoy did not ask both replicas"

                # Redis away: every answer is an error, and Envoy lets the requests through.
                redis_server.stop()
                assert await statuses(3, "/users", "alice") == [200] * 3
                assert all(s.failures > 0 for s in stores)
                # Redis back (empty: no persistence here): the limit holds again, still across replicas.
                redis_server.start()
                assert await statuses(5, "/users", "alice") == [200, 200, 200, 429, 429]
        finally:
            for server in servers:
                await server.stop(None)
            for store in stores:
                await store.aclose()

    try:
        asyncio.run(asyncio.wait_for(main(), 90))
    finally:
        echo.stop()
