"""Global rate limiting through a real Envoy: a static bootstrap with the routes' rate_limits
(descriptors.py) and the rate limit filter (filter.py) pointing at meshgate's service on
127.0.0.1 over an HTTP/2 cluster, and an echo backend. A request over a rule's limit gets 429;
another distinct header value or client address has its own bucket; requests a rule does not
select are not limited by it. The service's clock is fixed, so no window ends during the test
(nothing here depends on timing)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, protocol_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as hpo
from google.protobuf import any_pb2, wrappers_pb2
from google.protobuf.json_format import MessageToJson

from meshgate import ir
from meshgate.echo import EchoServer
from meshgate.envoy.binary import find_envoy
from meshgate.ratelimit.counters import MemoryCounterStore
from meshgate.ratelimit.descriptors import route_key, route_rate_limits
from meshgate.ratelimit.filter import gateway_domain, rate_limit_filter
from meshgate.ratelimit.limits import build_table
from meshgate.ratelimit.service import RateLimitServicer

from ..e2e.harness import LISTEN_PORT, free_subnet

pytestmark = pytest.mark.envoy

DOMAIN = gateway_domain("e2e", "gw")
ROUTE_CONFIG = "http.8080"
SOURCE = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "e2e", "limits")
HOUR = 3600


@contextlib.asynccontextmanager
async def running_envoy(envoy: str, config: Path, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Envoy on the static bootstrap `config`, its stderr in `log`; stopped on the way out
    (terminated, killed if it does not end within 10 s)."""
    with log.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            envoy, "-c", str(config), "--log-level", "warning", "--disable-hot-restart",
            stdout=asyncio.subprocess.DEVNULL, stderr=log_file)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)


def _global(*rules: ir.RateLimitRule) -> ir.RateLimit:
    return ir.RateLimit("Global", rules, SOURCE)


# Path prefix → its rate limit (None: not limited).
LIMITS: dict[str, ir.RateLimit | None] = {
    "/warm": _global(ir.RateLimitRule(10_000, HOUR)),
    "/users": _global(ir.RateLimitRule(3, HOUR, headers=(ir.HeaderSelector("x-user", "Distinct"),))),
    "/tier": _global(ir.RateLimitRule(2, HOUR, headers=(ir.HeaderSelector("x-tier", "Exact", "free"),))),
    # Inverted: the requests whose x-bot does not match the expression (none at all included).
    "/humans": _global(ir.RateLimitRule(2, HOUR, headers=(
        ir.HeaderSelector("x-bot", "RegularExpression", "crawler-[0-9]+", invert=True),))),
    # Both rules counted for a client in 127/8; the 10/8 one (limit 1) never selects it.
    "/cidr": _global(ir.RateLimitRule(2, HOUR, source_cidr="127.0.0.0/8"),
                     ir.RateLimitRule(1, HOUR, source_cidr="10.0.0.0/8")),
    "/src": _global(ir.RateLimitRule(2, HOUR, source_cidr="127.0.0.0/8", source_distinct=True)),
    # For clients on [::1]: the IPv6 rule spelled out long-hand (Envoy sends "::/64"); the IPv4 rule
    # (limit 1) must not select an IPv6 client although its IPv6 mask is set too.
    "/v6": _global(ir.RateLimitRule(2, HOUR, source_cidr="0000:0:0:0::0/64"),
                   ir.RateLimitRule(1, HOUR, source_cidr="127.0.0.0/8")),
    "/": None,
}


def _any(msg) -> any_pb2.Any:
    out = any_pb2.Any()
    out.Pack(msg)
    return out


def _static_cluster(name: str, address: str, port: int, http2: bool = False) -> cluster_pb2.Cluster:
    cluster = cluster_pb2.Cluster(name=name, type=cluster_pb2.Cluster.STATIC)
    cluster.connect_timeout.seconds = 1
    cluster.load_assignment.CopyFrom(endpoint_pb2.ClusterLoadAssignment(cluster_name=name, endpoints=[
        endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=[endpoint_components_pb2.LbEndpoint(
            endpoint=endpoint_components_pb2.Endpoint(address=address_pb2.Address(
                socket_address=address_pb2.SocketAddress(address=address, port_value=port))))])]))
    if http2:  # gRPC
        cluster.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].CopyFrom(
            _any(hpo.HttpProtocolOptions(explicit_http_config=hpo.HttpProtocolOptions.ExplicitHttpConfig(
                http2_protocol_options=protocol_pb2.Http2ProtocolOptions()))))
    return cluster


def bootstrap(base: str, echo_port: int, rls_port: int, admin_port: int, v6_port: int) -> bootstrap_pb2.Bootstrap:
    """Envoy on {base}.1:LISTEN_PORT and [::1]:v6_port, the routes of LIMITS to the echo backend, the rate limit
    filter asking the service on 127.0.0.1:rls_port."""
    routes = []
    for prefix, limit in LIMITS.items():
        action = route_components_pb2.RouteAction(cluster="echo")
        action.rate_limits.extend(route_rate_limits(route_key(ROUTE_CONFIG, prefix), limit))
        routes.append(route_components_pb2.Route(
            name=prefix, match=route_components_pb2.RouteMatch(prefix=prefix), route=action))
    manager = hcm.HttpConnectionManager(
        stat_prefix="ingress",
        use_remote_address=wrappers_pb2.BoolValue(value=True),  # the peer is the client (as meshgate's)
        route_config=route_pb2.RouteConfiguration(name=ROUTE_CONFIG, virtual_hosts=[
            route_components_pb2.VirtualHost(name="all", domains=["*"], routes=routes)]),
        http_filters=[rate_limit_filter(DOMAIN, "rls"),
                      hcm.HttpFilter(name="envoy.filters.http.router", typed_config=_any(router_pb2.Router()))],
    )
    boot = bootstrap_pb2.Bootstrap()
    boot.admin.address.socket_address.address = "127.0.0.1"
    boot.admin.address.socket_address.port_value = admin_port
    for name, address, port in (("http", f"{base}.1", LISTEN_PORT), ("http6", "::1", v6_port)):
        boot.static_resources.listeners.append(listener_pb2.Listener(
            name=name,
            address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address=address, port_value=port)),
            filter_chains=[listener_components_pb2.FilterChain(filters=[listener_components_pb2.Filter(
                name="envoy.filters.network.http_connection_manager", typed_config=_any(manager))])],
        ))
    boot.static_resources.clusters.extend([
        _static_cluster("rls", "127.0.0.1", rls_port, http2=True),
        _static_cluster("echo", f"{base}.11", echo_port),
    ])
    return boot


def _free_port(family: socket.AddressFamily = socket.AF_INET) -> int:
    with socket.socket(family) as s:
        s.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
        return s.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]


def _get(host: str, port: int, path: str, headers: dict[str, str] | None = None, source: str = "") -> Answer:
    """One GET to Envoy at host:port (blocking), from `source` when given."""
    conn = http.client.HTTPConnection(host, port, timeout=5, source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()})
    except (OSError, http.client.HTTPException):
        return Answer(0, {})
    finally:
        conn.close()


def test_global_rate_limit_through_envoy(tmp_path: Path) -> None:
    envoy = find_envoy()
    assert envoy is not None
    base = free_subnet()
    echo = EchoServer(f"{base}.11", 0, pod="echo", namespace="e2e")
    echo.start()

    async def main() -> None:
        loop = asyncio.get_running_loop()

        v6_port = _free_port(socket.AF_INET6)

        async def get(path: str, headers: dict[str, str] | None = None, source: str = "", v6: bool = False) -> Answer:
            host, port = ("::1", v6_port) if v6 else (f"{base}.1", LISTEN_PORT)
            return await loop.run_in_executor(None, _get, host, port, path, headers, source)

        async def statuses(n: int, path: str, headers: dict[str, str] | None = None, source: str = "",
                           v6: bool = False) -> list[int]:
            return [(await get(path, headers, source, v6)).status for _ in range(n)]

        servicer = RateLimitServicer(
            build_table({DOMAIN: [(route_key(ROUTE_CONFIG, p), lim) for p, lim in LIMITS.items()]}),
            MemoryCounterStore(clock=lambda: 1_000_000.0))
        server = grpc.aio.server()
        servicer.add_to_server(server)
        rls_port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        config = tmp_path / "envoy.json"
        config.write_text(MessageToJson(bootstrap(base, echo.port, rls_port, _free_port(), v6_port)))
        log = tmp_path / "envoy.log"
        try:
            async with running_envoy(envoy, config, log) as proc:
                # Ready when a request through the filter and the service comes back 200 (bounded).
                for _ in range(400):
                    assert proc.returncode is None, log.read_text()
                    warm = await get("/warm")
                    if warm.status == 200:
                        break
                    await asyncio.sleep(0.05)
                assert warm.status == 200, log.read_text()
                assert "x-ratelimit-limit" in warm.headers  # the service answered with a limit

                # A Distinct header: 3 per client, each value its own bucket.
                alice = [await get("/users", {"x-user": "alice"}) for _ in range(4)]
                assert [a.status for a in alice] == [200, 200, 200, 429]
                assert [a.headers.get("x-ratelimit-remaining") for a in alice[:3]] == ["2", "1", "0"]
                assert await statuses(1, "/users", {"x-user": "bob"}) == [200]
                assert await statuses(6, "/users") == [200] * 6  # no header: not selected by the rule

                # An Exact header: only the selected value is limited.
                assert await statuses(5, "/tier", {"x-tier": "paid"}) == [200] * 5
                assert await statuses(3, "/tier", {"x-tier": "free"}) == [200, 200, 429]

                # An inverted regular expression: bots are not selected; everyone else shares 2.
                assert await statuses(4, "/humans", {"x-bot": "crawler-7"}) == [200] * 4
                assert await statuses(2, "/humans", {"x-bot": "browser"}) == [200, 200]
                assert await statuses(1, "/humans") == [429]

                # Source CIDR, one bucket for the range; the rule for 10/8 (limit 1) does not count us.
                assert await statuses(3, "/cidr") == [200, 200, 429]

                # Source CIDR, each client address its own bucket.
                assert await statuses(3, "/src", source=f"{base}.21") == [200, 200, 429]
                assert await statuses(2, "/src", source=f"{base}.22") == [200, 200]

                # IPv6: the masked address Envoy sends matches the canonical CIDR; the IPv4 rule stays out.
                assert await statuses(3, "/v6", v6=True) == [200, 200, 429]
                assert await statuses(2, "/v6") == [200, 429]  # over IPv4: only the 127/8 rule (limit 1)

                # Routes keep their own buckets; a route without a rate limit is never limited.
                assert await statuses(1, "/users", {"x-user": "carol"}) == [200]
                assert await statuses(8, "/") == [200] * 8
        finally:
            await server.stop(None)

    try:
        asyncio.run(main())
    finally:
        echo.stop()
