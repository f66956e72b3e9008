"""The rate limit service's cost per decision: ShouldRateLimit in process and over gRPC on
127.0.0.1, with C distinct clients (a Distinct header rule, each client its own bucket), and the
memory its counters hold.

    python bench/ratelimit.py [--requests 20000] [--clients 1000] [--concurrency 16] [--json]

Each request carries two descriptors, as Envoy sends for a route with two rules (one per client,
one for the whole route). `in-process`: RateLimitServicer.decide on the event loop (table lookup,
counting, the response message), no gRPC. `grpc`: the same through a grpc.aio server and
channel, `--concurrency` calls in flight. Figures are wall-clock: run on an idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc

import grpc
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

from meshgate import ir
from meshgate.ratelimit.counters import MemoryCounterStore
from meshgate.ratelimit.descriptors import ROUTE_RULE_KEY, route_key, rule_name
from meshgate.ratelimit.limits import build_table
from meshgate.ratelimit.service import RateLimitServicer

DOMAIN = "bench/gw"
KEY = route_key("http.80", "bench/route/rule/0/match/0")


def _servicer(clients: int) -> RateLimitServicer:
    source = ir.SourceRef("BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1", "bench", "limits")
    rules = (ir.RateLimitRule(1_000_000, 3600, headers=(ir.HeaderSelector("x-user", "Distinct"),)),
             ir.RateLimitRule(1_000_000_000, 3600))
    table = build_table({DOMAIN: [(KEY, ir.RateLimit("Global", rules, source))]})
    return RateLimitServicer(table, MemoryCounterStore(max_keys=max(clients * 2, 1)))


def _requests(clients: int) -> list[rls_pb2.RateLimitRequest]:
    def entry(k: str, v: str) -> ratelimit_pb2.RateLimitDescriptor.Entry:
        return ratelimit_pb2.RateLimitDescriptor.Entry(key=k, value=v)
    return [rls_pb2.RateLimitRequest(domain=DOMAIN, descriptors=[
        ratelimit_pb2.RateLimitDescriptor(entries=[entry(ROUTE_RULE_KEY, rule_name(KEY, 0)),
                                                   entry("header-0", f"client-{i}")]),
        ratelimit_pb2.RateLimitDescriptor(entries=[entry(ROUTE_RULE_KEY, rule_name(KEY, 1))]),
    ]) for i in range(clients)]


async def _in_process(n: int, clients: int) -> dict[str, float]:
    servicer = _servicer(clients)
    reqs = _requests(clients)
    start = time.perf_counter()
    for i in range(n):
        r = await servicer.decide(reqs[i % clients])
        assert r.overall_code == rls_pb2.RateLimitResponse.OK
    elapsed = time.perf_counter() - start
    # Memory on a second, untimed pass (tracemalloc slows everything down): what the counters of
    # every client hold.
    servicer = _servicer(clients)
    tracemalloc.start()
    for req in reqs:
        await servicer.decide(req)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"per_s": n / elapsed, "us_per_decision": elapsed / n * 1e6, "counter_bytes": held,
            "bytes_per_bucket": held / (clients + 1)}


async def _grpc(n: int, clients: int, concurrency: int) -> dict[str, float]:
    servicer = _servicer(clients)
    reqs = _requests(clients)
    server = grpc.aio.server()
    servicer.add_to_server(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = rls_pb2_grpc.RateLimitServiceStub(channel)
            await stub.ShouldRateLimit(reqs[0])
            counter = iter(range(n))

            async def worker() -> None:
                for i in counter:  # shared: n calls in all
                    await stub.ShouldRateLimit(reqs[i % clients])
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
    finally:
        await server.stop(None)
    return {"per_s": n / elapsed, "us_per_decision": elapsed / n * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    local = asyncio.run(_in_process(args.requests, args.clients))
    remote = asyncio.run(_grpc(args.requests, args.clients, args.concurrency))
    print(f"in-process: {local['per_s']:,.0f} decisions/s ({local['us_per_decision']:.1f} µs each); "
          f"counters {local['counter_bytes'] / 1024:,.0f} KiB for {args.clients} clients")
    print(f"grpc:       {remote['per_s']:,.0f} decisions/s ({remote['us_per_decision']:.1f} µs each, "
          f"{args.concurrency} in flight)")
    if args.json:
        print(json.dumps({"requests": args.requests, "clients": args.clients, "in_process": local,
                          "grpc": remote}))


if __name__ == "__main__":
    main()
