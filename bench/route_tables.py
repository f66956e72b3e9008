"""Which split route table Envoy ingests fastest: one RDS RouteConfiguration, scoped routes
(SRDS, one RouteConfiguration per hostname) or VHDS (virtual hosts by Delta xDS), for one route
change, against a real Envoy (issue 14 §6; the measurement behind xds/scopes.py).

A minimal ADS server of its own (State of the World and Delta; not meshgate's) serves one
listener whose routes are the virtual hosts meshgate translates from bench/translate.py's input
(N HTTPRoutes, each on its own hostname; `--one-host`: all N routes in one virtual host). Once
Envoy is ready it sends C changes, each one route's header value, as

- `rds`: the whole RouteConfiguration again;
- `srds`: the RouteConfiguration of that hostname's scope (the key is the Host without port);
- `vhds`: that virtual host, named `<route config>/<hostname>` (Delta only: Envoy refuses VHDS
  over State of the World),

and reports the median time from handing the response to gRPC to receiving Envoy's ACK, and
the bytes of the response.

    python bench/route_tables.py [--sizes 100,1000,5000] [--changes 10] [--one-host]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

import translate
from workers import require_upb, run_worker

LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
SRDS = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration"
VHDS = "type.googleapis.com/envoy.config.route.v3.VirtualHost"
CASES = (("rds", "delta"), ("rds", "sotw"), ("srds", "delta"), ("srds", "sotw"), ("vhds", "delta"))
ACK_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 300.0
MAX_N = 20_000


def packed(type_url: str, msg: Any) -> Any:
    from google.protobuf import any_pb2

    return any_pb2.Any(type_url=type_url, value=msg.SerializeToString(deterministic=True))


class Server:
    """ADS over both protocols for one Envoy: answers subscriptions from `store`, pushes what
    `push` is given, and records when each nonce was answered."""

    def __init__(self, store: dict[str, dict[str, Any]]) -> None:
        self.store = store
        self.queue: asyncio.Queue | None = None
        self.acks: dict[str, tuple[float, str]] = {}  # nonce → (perf_counter, NACK message)
        self.sizes: dict[str, int] = {}
        self.nonce = 0

    def _select(self, type_url: str, names: list[str]) -> dict[str, Any]:
        have = self.store.get(type_url, {})
        if not names or names == ["*"]:
            return dict(have)
        if type_url == VHDS:  # Envoy subscribes by route configuration name (namespace matching)
            return {n: r for n, r in have.items() if any(n.startswith(x + "/") for x in names)}
        return {n: have[n] for n in names if n in have}

    def _next(self) -> str:
        self.nonce += 1
        return str(self.nonce)

    def _answered(self, nonce: str, detail: Any) -> None:
        if nonce:
            self.acks[nonce] = (time.perf_counter(), detail.message if detail is not None else "")

    async def _requests(self, it: AsyncIterator) -> AsyncIterator:
        self.queue = queue = asyncio.Queue()

        async def pump() -> None:
            async for req in it:
                await queue.put(req)

        task = asyncio.create_task(pump())
        try:
            while True:
                yield await queue.get()
        finally:
            task.cancel()

    async def StreamAggregatedResources(self, it: AsyncIterator, ctx: Any) -> AsyncIterator:
        from envoy.service.discovery.v3 import discovery_pb2

        subscribed: dict[str, list[str]] = {}
        async for item in self._requests(it):
            if isinstance(item, tuple):  # a push: (type URL, {name: Any})
                type_url, resources = item
                nonce = self._next()
                resp = discovery_pb2.DiscoveryResponse(version_info=nonce, type_url=type_url, nonce=nonce,
                                                       resources=list(resources.values()))
                self.sizes[nonce] = resp.ByteSize()
                yield resp
                continue
            self._answered(item.response_nonce, item.error_detail if item.HasField("error_detail") else None)
            names = list(item.resource_names)
            if item.response_nonce and subscribed.get(item.type_url) == names:
                continue
            subscribed[item.type_url] = names
            nonce = self._next()
            yield discovery_pb2.DiscoveryResponse(version_info=nonce, type_url=item.type_url, nonce=nonce,
                                                  resources=list(self._select(item.type_url, names).values()))

    async def DeltaAggregatedResources(self, it: AsyncIterator, ctx: Any) -> AsyncIterator:
        from envoy.service.discovery.v3 import discovery_pb2

        async for item in self._requests(it):
            if isinstance(item, tuple):
                type_url, resources = item
                nonce = self._next()
                resp = discovery_pb2.DeltaDiscoveryResponse(type_url=type_url, nonce=nonce, resources=[
                    discovery_pb2.Resource(name=n, version=nonce, resource=r) for n, r in resources.items()])
                self.sizes[nonce] = resp.ByteSize()
                yield resp
                continue
            self._answered(item.response_nonce, item.error_detail if item.HasField("error_detail") else None)
            names = list(item.resource_names_subscribe)
            if item.response_nonce and not names:
                continue
            yield discovery_pb2.DeltaDiscoveryResponse(type_url=item.type_url, nonce=self._next(), resources=[
                discovery_pb2.Resource(name=n, version="0", resource=r)
                for n, r in self._select(item.type_url, names).items()])


def virtual_hosts(n: int, one_host: bool) -> tuple[str, list[Any]]:
    """meshgate's route configuration name and virtual hosts for N generated HTTPRoutes."""
    from envoy.config.route.v3 import route_components_pb2 as rc

    from meshgate.pipeline import translate_store

    store = translate.load_store(translate.generate_yaml(n, 1))
    (snap,) = translate_store(store, translate.NOW).snapshots
    # Whole or split per hostname (xds/scopes.py), the same virtual hosts.
    name = snap.routes[0].name.split("/")[0]
    hosts = [vh for config in snap.routes for vh in config.virtual_hosts if vh.domains[0] != "*"]
    assert len(hosts) == n, f"expected {n} virtual hosts, got {len(hosts)}"
    if one_host:
        one = rc.VirtualHost(name="one", domains=["one.example.com"])
        for vh in hosts:
            one.routes.extend(vh.routes)
        hosts = [one]
    return name, hosts


def route_config(name: str, hosts: list[Any], vhds: bool = False) -> Any:
    from envoy.config.route.v3 import route_pb2

    from meshgate.xds.common import ADS

    out = route_pb2.RouteConfiguration(name=name, virtual_hosts=[] if vhds else hosts,
                                       ignore_port_in_host_matching=True)
    out.validate_clusters.value = False
    if vhds:
        out.vhds.config_source.CopyFrom(ADS)
    return out


def vhds_host(name: str, vh: Any) -> Any:
    from envoy.config.route.v3 import route_components_pb2 as rc

    out = rc.VirtualHost()
    out.CopyFrom(vh)
    out.name = f"{name}/{vh.domains[0]}"
    return out


def resources(table: str, name: str, hosts: list[Any], port: int) -> dict[str, dict[str, Any]]:
    """Everything Envoy is served for one way of carrying the route table."""
    from envoy.config.cluster.v3 import cluster_pb2
    from envoy.config.listener.v3 import listener_components_pb2 as lc
    from envoy.config.listener.v3 import listener_pb2
    from envoy.config.route.v3 import scoped_route_pb2

    from meshgate.xds.common import to_any
    from meshgate.xds.listeners import connection_manager

    store: dict[str, dict[str, Any]] = {LDS: {}, RDS: {}, CDS: {}, SRDS: {}, VHDS: {}}
    cluster = cluster_pb2.Cluster(name="unused", type=cluster_pb2.Cluster.STATIC)
    cluster.connect_timeout.seconds = 1
    store[CDS]["unused"] = packed(CDS, cluster)
    manager = connection_manager("http", name, scoped=table == "srds")
    lst = listener_pb2.Listener(name="listener")
    lst.address.socket_address.address = "127.0.0.1"
    lst.address.socket_address.port_value = port
    lst.filter_chains.append(lc.FilterChain(filters=[
        lc.Filter(name="envoy.filters.network.http_connection_manager", typed_config=to_any(manager))]))
    store[LDS]["listener"] = packed(LDS, lst)
    if table == "srds":
        for vh in hosts:
            scope = f"{name}/{vh.domains[0]}"
            store[RDS][scope] = packed(RDS, route_config(scope, [vh]))
            sc = scoped_route_pb2.ScopedRouteConfiguration(name=scope, route_configuration_name=scope)
            sc.key.fragments.add().string_key = vh.domains[0]
            store[SRDS][scope] = packed(SRDS, sc)
    else:
        store[RDS][name] = packed(RDS, route_config(name, hosts, vhds=table == "vhds"))
        if table == "vhds":
            for vh in hosts:
                v = vhds_host(name, vh)
                store[VHDS][v.name] = packed(VHDS, v)
    return store


def change(table: str, name: str, hosts: list[Any], k: int) -> tuple[str, dict[str, Any]]:
    """One route's header value changed in host k: what is sent for it."""
    from envoy.config.route.v3 import route_components_pb2 as rc

    i = k % len(hosts)
    vh = rc.VirtualHost()
    vh.CopyFrom(hosts[i])
    vh.routes[k % len(vh.routes)].request_headers_to_add[0].header.value = f"change-{k}"
    hosts[i] = vh
    if table == "rds":
        return RDS, {name: packed(RDS, route_config(name, hosts))}
    if table == "srds":
        scope = f"{name}/{vh.domains[0]}"
        return RDS, {scope: packed(RDS, route_config(scope, [vh]))}
    v = vhds_host(name, vh)
    return VHDS, {v.name: packed(VHDS, v)}


async def run(table: str, protocol: str, n: int, one_host: bool, changes: int) -> dict:
    import grpc
    from envoy.service.discovery.v3 import ads_pb2_grpc

    from meshgate.envoy.bootstrap import ads_bootstrap
    from meshgate.envoy.process import ManagedEnvoy

    name, hosts = virtual_hosts(n, one_host)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Server(resources(table, name, hosts, port))
    grpc_server = grpc.aio.server(options=[("grpc.max_receive_message_length", 1 << 30),
                                           ("grpc.max_send_message_length", 1 << 30)])
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(server, grpc_server)  # type: ignore[arg-type]
    xds_port = grpc_server.add_insecure_port("127.0.0.1:0")
    await grpc_server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="meshgate-bench-tables-") as tmp:
            boot = ads_bootstrap("bench/bench-gw", "127.0.0.1", xds_port, delta=protocol == "delta")
            envoy = ManagedEnvoy("bench/bench-gw", boot, Path(tmp), log_level="warning")
            await envoy.start(timeout=READY_TIMEOUT_S)
            try:
                deadline = time.perf_counter() + READY_TIMEOUT_S
                while "total_listeners_active: 1" not in await envoy.admin_get(
                        "/stats?filter=listener_manager.total_listeners_active"):
                    if time.perf_counter() > deadline:
                        raise RuntimeError("Envoy's listener never became active")
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)  # the last initial responses ACKed
                times, sizes = [], []
                for k in range(changes):
                    assert server.queue is not None
                    type_url, sent = change(table, name, hosts, k * 7919)
                    nonce = str(server.nonce + 1)
                    t0 = time.perf_counter()
                    await server.queue.put((type_url, sent))
                    while nonce not in server.acks:
                        if time.perf_counter() - t0 > ACK_TIMEOUT_S:
                            raise RuntimeError(f"change {k} not ACKed within {ACK_TIMEOUT_S} s")
                        await asyncio.sleep(0.0005)
                    t1, nack = server.acks[nonce]
                    if nack:
                        raise RuntimeError(f"Envoy NACKed change {k}: {nack}")
                    times.append((t1 - t0) * 1000)
                    sizes.append(server.sizes[nonce])
                    await asyncio.sleep(0.05)
            finally:
                await envoy.stop()
    finally:
        await grpc_server.stop(None)
    return {"median_ms": statistics.median(times), "max_ms": max(times), "bytes": statistics.median(sizes)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--sizes", default="100,1000,5000", help="comma-separated N (default 100,1000,5000)")
    p.add_argument("--changes", type=int, default=10, help="changes per case (default 10)")
    p.add_argument("--one-host", action="store_true", help="all N routes in one virtual host")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(not 0 < s <= MAX_N for s in sizes) or not 0 < args.changes <= 1000:
        p.error(f"sizes between 1 and {MAX_N}, changes between 1 and 1000")
    require_upb()
    if args.worker:  # one case, in a fresh process (as every case is run)
        table, protocol = args.worker.split(":")
        print(json.dumps(asyncio.run(run(table, protocol, sizes[0], args.one_host, args.changes))))
        return 0
    print("| N | routes on | table | protocol | bytes sent | Envoy ACK ms (median) | max ms |")
    print("|---:|:---|:---|:---|---:|---:|---:|")
    for n in sizes:
        for table, protocol in CASES:
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", f"{table}:{protocol}", "--sizes", str(n),
                   "--changes", str(args.changes)] + (["--one-host"] if args.one_host else [])
            r = run_worker(cmd, f"N={n} {table} {protocol}")
            print(f"| {n:,} | {'one host' if args.one_host else f'{n:,} hosts'} | {table} | {protocol} | "
                  f"{r['bytes']:,.0f} | {r['median_ms']:.1f} | {r['max_ms']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
