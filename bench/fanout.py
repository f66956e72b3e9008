"""Fan-out: P Delta proxies in a few zones get a route change; how long until all have it, and
what each connected proxy costs the server (issue 14).

Input: bench/contexts.py's (one Gateway, N STATIC ServiceEntries with 10 endpoints in 10
localities, N HTTPRoutes, one wildcard DestinationRule with outlierDetection, so that every
cluster is per-client), plus one HTTPRoute `probe` in a file of its own, hostname
`probe-0.bench.example.com` to the first host.

For each P, a fresh server subprocess loads the input into a ControlPlane and serves it over ADS
on 127.0.0.1 (`resolve=control.resolve`, `release=control.release`, as `meshgate serve` does); a
client subprocess opens P Delta ADS streams over a few gRPC channels: fake proxies of the
Gateway, proxy k in the (k mod Z)-th of Z localities (Z = --zones, default 5, so Z per-client
views), each subscribing as Envoy does to CDS (wildcard), EDS (every cluster), LDS (wildcard)
and RDS (the route configuration its listener names), ACKing every response, then reading and
ACKing whatever comes. Measured:

1. connecting: "go" → every stream has ACKed CDS, EDS, LDS and RDS: the server's CPU time and
   RSS growth, per proxy;
2. C route changes: the probe route's file is rewritten with hostname `probe-k...`, read by the
   file provider (`provider.reload`), then timed from `control.apply` of that change set (plus
   `cache.notify()`, waking the streams) until the last of the P proxies has received an RDS
   response naming `probe-k` (the client's clock; both processes read the same system clock);
   also the first proxy's time and the server's CPU time per change. The debounce and the file
   watcher are not included (bench/propagation.py has them).

    .venv/bin/python bench/fanout.py [--services 1000] [--proxies 10,100,500] [--zones 5]
        [--changes 5] [--channels 8] [--markdown] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from contexts import (
    CLIENT_READY_TIMEOUT_S,
    DOMAIN,
    GATEWAY,
    GATEWAY_KEY,
    LISTEN_ADDRESS,
    LOCALITIES,
    MAX_CHANNELS,
    NAMESPACE,
    PHASE_TIMEOUT_S,
    READ_TIMEOUT_S,
    STOP_TIMEOUT_S,
    BenchError,
    _readline,
    generate_yaml,
    host,
    rss_mb,
)
from workers import STOP_GRACE_S, require_upb, run_worker

MAX_N = 10_000
MAX_P = 2_000
CHANGE_TIMEOUT_S = 300.0  # one change applied → every proxy has it
SETTLE_TIMEOUT_S = 300.0  # every stream has ACKed everything it was sent
SETTLE_POLL_S = 0.005
GOAL_S = 0.2  # issue 14: every one of 500 proxies has a route change within 200 ms
_MARKER = re.compile(rb"probe-(\d+)\." + re.escape(DOMAIN.encode()))


def probe_yaml(k: int) -> str:
    """The probe route, generation k: hostname probe-k.DOMAIN, to the first host."""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: probe, namespace: {NAMESPACE}}}
spec:
  parentRefs: [{{name: {GATEWAY}}}]
  hostnames: ["probe-{k}.{DOMAIN}"]
  rules:
  - backendRefs: [{{group: networking.istio.io, kind: Hostname, name: "{host(0)}", port: 80}}]
"""


# --------------------------------------------------------------------------------------------
# The server worker.


def _settled(registry: Any, p: int) -> tuple[bool, str]:
    """P streams exist, each with CDS, EDS, LDS and RDS active, sent and ACKed; no NACK."""
    from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE

    streams = registry.all()
    if len(streams) != p:
        return False, f"{len(streams)} of {p} streams"
    for st in streams:
        for t in (CLUSTER, ENDPOINT, LISTENER, ROUTE):
            ts = st.types.get(t)
            if ts is None or not ts.active or not ts.nonce:
                return False, f"stream {st.stream_id}: {t.rsplit('.', 1)[-1]} not sent yet"
            if ts.nacks:
                raise BenchError(f"stream {st.stream_id} NACKed {t}: {ts.nack}")
            if ts.acked_nonce != ts.nonce:
                return False, f"stream {st.stream_id}: {t.rsplit('.', 1)[-1]} not ACKed"
    return True, "all ACKed"


async def _wait_settled(registry: Any, p: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while True:
        ok, state = _settled(registry, p)
        if ok:
            return
        if time.perf_counter() >= deadline:
            raise BenchError(f"the streams did not settle within {timeout:g} s: {state}")
        await asyncio.sleep(SETTLE_POLL_S)


async def _say(client: Any, line: str) -> None:
    client.stdin.write(line.encode() + b"\n")
    await client.stdin.drain()


async def run_server(n: int, p: int, zones: int, changes: int, channels: int) -> dict:
    from meshgate.providers.files import FileProvider
    from meshgate.resources.loader import InputLimits
    from meshgate.runtime.controller import ControlPlane
    from meshgate.runtime.metrics import Metrics
    from meshgate.xds.cache import SnapshotCache
    from meshgate.xds.server import AggregatedDiscoveryService, start_server
    from meshgate.xds.streams import StreamRegistry

    require_upb()
    out: dict[str, Any] = {"n": n, "p": p, "zones": zones, "channels": channels}
    with tempfile.TemporaryDirectory(prefix="meshgate-bench-fanout-") as tmp:
        cfgdir = Path(tmp) / "config"
        cfgdir.mkdir()
        (cfgdir / "bench.yaml").write_text(generate_yaml(n))
        probe = cfgdir / "probe.yaml"
        probe.write_text(probe_yaml(0))
        limits = InputLimits(max_file_bytes=1 << 31, max_documents=10_000_000)  # one generated file
        cache, metrics, registry = SnapshotCache(), Metrics(), StreamRegistry()
        control = ControlPlane(FileProvider([cfgdir], limits), cache, metrics)
        t = time.perf_counter()
        control.load()
        out["load_s"] = time.perf_counter() - t
        errors = [err for err in control.errors if err.severity == "error"]
        if errors:
            raise BenchError(f"benchmark input has errors: {errors[:3]}")
        if [c.key for c in control.configs] != [GATEWAY_KEY]:
            raise BenchError(f"expected the one gateway {GATEWAY_KEY}, got {[c.key for c in control.configs]}")

        service = AggregatedDiscoveryService(cache, registry, metrics, resolve=control.resolve,
                                             release=control.release)
        server, port = await start_server(service, LISTEN_ADDRESS, 0)
        client = None
        try:
            cmd = [sys.executable, os.path.abspath(__file__), "--client", str(port), "--services", str(n),
                   "--proxies", str(p), "--zones", str(zones), "--channels", str(channels)]
            client = await asyncio.create_subprocess_exec(
                *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True)
            assert client.stdin is not None and client.stdout is not None
            line = await _readline(client.stdout, CLIENT_READY_TIMEOUT_S, "ready")
            if line != "ready":
                raise BenchError(f"client said {line!r}, expected 'ready'")

            # 1. Connecting.
            rss0 = rss_mb()
            w0, c0 = time.perf_counter(), time.process_time()
            await _say(client, "go")
            line = await _readline(client.stdout, PHASE_TIMEOUT_S, "synced")
            if not line.startswith("synced "):
                raise BenchError(f"client said {line!r}, expected 'synced ...'")
            await _wait_settled(registry, p, SETTLE_TIMEOUT_S)
            connect_wall, connect_cpu = time.perf_counter() - w0, time.process_time() - c0
            out.update(json.loads(line[len("synced "):]))
            out.update({"connect_wall_s": connect_wall, "connect_cpu_s": connect_cpu,
                        "cpu_per_proxy_ms": connect_cpu / p * 1000,
                        "rss_growth_mb": rss_mb() - rss0, "mem_per_proxy_kb": (rss_mb() - rss0) * 1024 / p,
                        "contexts": control.context_count})
            if control.context_count != min(zones, p):
                raise BenchError(f"{control.context_count} per-client views for {p} proxies in {zones} zones")

            # 2. Route changes.
            samples = []
            for k in range(1, changes + 1):
                probe.write_text(probe_yaml(k))
                change = control.provider.reload(probe)
                c1 = time.process_time()
                t0 = time.time()
                path = control.apply(change)
                await control.cache.notify()
                if path != "full":
                    raise BenchError(f"change {k} took the {path!r} path, expected a full translation")
                await _say(client, f"wait {k}")
                line = await _readline(client.stdout, CHANGE_TIMEOUT_S, f"change {k} at every proxy")
                word, gen, first, last = line.split()
                if (word, int(gen)) != ("have", k):
                    raise BenchError(f"client said {line!r}, expected 'have {k} ...'")
                await _wait_settled(registry, p, SETTLE_TIMEOUT_S)
                samples.append({"first_s": float(first) - t0, "all_s": float(last) - t0,
                                "cpu_s": time.process_time() - c1})
            out["changes"] = samples
            out["all_median_s"] = statistics.median(s["all_s"] for s in samples)
            out["first_median_s"] = statistics.median(s["first_s"] for s in samples)
            out["change_cpu_median_s"] = statistics.median(s["cpu_s"] for s in samples)

            await _say(client, "stop")
            await _readline(client.stdout, STOP_TIMEOUT_S, "stop")
            await asyncio.wait_for(client.wait(), STOP_TIMEOUT_S)
            if client.returncode != 0:
                raise BenchError(f"client exited with {client.returncode}")
        finally:
            if client is not None and client.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    client.kill()  # our own child, by its pid
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wait(), STOP_GRACE_S)
            await server.stop(grace=1.0)
    return out


def server_worker(n: int, p: int, zones: int, changes: int, channels: int) -> dict:
    async def main() -> dict:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        return await run_server(n, p, zones, changes, channels)

    return asyncio.run(main())


# --------------------------------------------------------------------------------------------
# The client worker: P fake proxies.


class Proxy:
    """One fake Envoy on a Delta ADS stream: the initial CDS/EDS/LDS/RDS exchange, then every
    response ACKed; remembers when it first saw each generation of the probe route."""

    def __init__(self, stub: Any, k: int, n: int, zones: int, seen: dict[int, list[float]]) -> None:
        self.stub, self.k, self.n, self.seen = stub, k, n, seen
        self.region, self.zone = LOCALITIES[k % zones]
        self.call: Any = None

    async def sync(self) -> int:
        """The initial exchange, as Envoy makes it; the bytes received."""
        import grpc
        from envoy.config.core.v3 import base_pb2
        from envoy.config.endpoint.v3 import endpoint_pb2
        from envoy.config.listener.v3 import listener_pb2
        from envoy.config.route.v3 import scoped_route_pb2
        from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
        from envoy.service.discovery.v3 import discovery_pb2

        from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE, SCOPED_ROUTE

        node = base_pb2.Node(id=f"bench-proxy-{self.k}", cluster=GATEWAY_KEY,
                             locality=base_pb2.Locality(region=self.region, zone=self.zone))
        node.metadata.fields["meshgate.io/gateway"].string_value = GATEWAY_KEY
        self.call = call = self.stub.DeltaAggregatedResources(wait_for_ready=True)
        req = discovery_pb2.DeltaDiscoveryRequest
        size = 0

        async def exchange(first: Any, type_url: str) -> Any:
            nonlocal size
            await call.write(first)
            resp = await asyncio.wait_for(call.read(), READ_TIMEOUT_S)
            if resp is grpc.aio.EOF:
                raise BenchError(f"proxy {self.k}: stream ended")
            if resp.type_url != type_url:
                raise BenchError(f"proxy {self.k}: got {resp.type_url}, expected {type_url}")
            await call.write(req(type_url=type_url, response_nonce=resp.nonce))
            size += resp.ByteSize()
            return resp

        cds = await exchange(req(node=node, type_url=CLUSTER), CLUSTER)
        eds = await exchange(req(type_url=ENDPOINT, resource_names_subscribe=[r.name for r in cds.resources]), ENDPOINT)
        lds = await exchange(req(type_url=LISTENER), LISTENER)
        routes: list[str] = []
        scoped = False
        for r in lds.resources:
            listener = listener_pb2.Listener.FromString(r.resource.value)
            for chain in listener.filter_chains:
                for f in chain.filters:
                    if f.typed_config.type_url.endswith("HttpConnectionManager"):
                        manager = hcm.HttpConnectionManager.FromString(f.typed_config.value)
                        if manager.HasField("scoped_routes"):
                            scoped = True  # per-hostname tables (xds/scopes.py): named by the scopes
                        else:
                            routes.append(manager.rds.route_config_name)
        if scoped:
            srds = await exchange(req(type_url=SCOPED_ROUTE), SCOPED_ROUTE)
            routes += [scoped_route_pb2.ScopedRouteConfiguration.FromString(r.resource.value).route_configuration_name
                       for r in srds.resources]
        rds = await exchange(req(type_url=ROUTE, resource_names_subscribe=sorted(set(routes))), ROUTE)
        if len(cds.resources) != self.n or len(eds.resources) != self.n or not rds.resources:
            raise BenchError(f"proxy {self.k}: {len(cds.resources)} clusters, {len(eds.resources)} assignments, "
                             f"{len(rds.resources)} route configurations")
        self._note(rds)
        # Its own view: among the first cluster's endpoints, its own locality's come first.
        cla = endpoint_pb2.ClusterLoadAssignment.FromString(eds.resources[0].resource.value)
        first = [(lle.locality.region, lle.locality.zone) for lle in cla.endpoints if lle.priority == 0]
        if first != [(self.region, self.zone)]:
            raise BenchError(f"proxy {self.k} in {self.region}/{self.zone}: priority 0 is {first}")
        return size

    def _note(self, resp: Any) -> None:
        now = time.time()
        gens = {int(m) for r in resp.resources for m in _MARKER.findall(r.resource.value)}
        for g in gens:
            self.seen.setdefault(g, []).append(now)

    async def follow(self) -> None:
        """ACK every response until the stream ends; note the probe generations in RDS."""
        import grpc
        from envoy.config.route.v3 import scoped_route_pb2
        from envoy.service.discovery.v3 import discovery_pb2

        from meshgate.xds.resources import ROUTE, SCOPED_ROUTE

        while True:
            resp = await self.call.read()
            if resp is grpc.aio.EOF:
                return
            if resp.type_url == ROUTE:
                self._note(resp)
            await self.call.write(discovery_pb2.DeltaDiscoveryRequest(type_url=resp.type_url,
                                                                      response_nonce=resp.nonce))
            if resp.type_url == SCOPED_ROUTE:
                # A new hostname is a new scope naming its own table: ask for it, as Envoy does.
                names = [scoped_route_pb2.ScopedRouteConfiguration.FromString(r.resource.value).route_configuration_name
                         for r in resp.resources]
                if names:
                    await self.call.write(discovery_pb2.DeltaDiscoveryRequest(
                        type_url=ROUTE, resource_names_subscribe=sorted(names)))


async def run_client(port: int, n: int, p: int, zones: int, channels: int) -> None:
    import grpc
    from envoy.service.discovery.v3 import ads_pb2_grpc

    require_upb()
    options = [("grpc.use_local_subchannel_pool", 1),  # one TCP connection per channel
               ("grpc.max_receive_message_length", 256 * 1024 * 1024)]
    chans = [grpc.aio.insecure_channel(f"{LISTEN_ADDRESS}:{port}", options=options) for _ in range(channels)]
    followers: list[asyncio.Task] = []
    try:
        await asyncio.wait_for(asyncio.gather(*(c.channel_ready() for c in chans)), CLIENT_READY_TIMEOUT_S)
        stubs = [ads_pb2_grpc.AggregatedDiscoveryServiceStub(c) for c in chans]
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print("ready", flush=True)
        if (await asyncio.wait_for(reader.readline(), PHASE_TIMEOUT_S)).strip() != b"go":
            raise BenchError("client: expected 'go'")
        seen: dict[int, list[float]] = {}
        proxies = [Proxy(stubs[k % channels], k, n, zones, seen) for k in range(p)]
        c0 = time.process_time()
        sizes = await asyncio.wait_for(asyncio.gather(*(px.sync() for px in proxies)), PHASE_TIMEOUT_S)
        followers = [asyncio.create_task(px.follow()) for px in proxies]
        print("synced " + json.dumps({"client_cpu_s": time.process_time() - c0,
                                      "initial_kib_per_proxy": sizes[0] / 1024}), flush=True)
        while True:
            line = (await asyncio.wait_for(reader.readline(), PHASE_TIMEOUT_S)).decode().split()
            if line[:1] != ["wait"]:
                break  # "stop" (or EOF)
            gen = int(line[1])
            deadline = loop.time() + CHANGE_TIMEOUT_S
            while len(seen.get(gen, ())) < p and loop.time() < deadline:
                await asyncio.sleep(0.001)
            times = seen.get(gen, [])
            if len(times) < p:
                raise BenchError(f"client: {len(times)} of {p} proxies saw change {gen} within {CHANGE_TIMEOUT_S:g} s")
            print(f"have {gen} {min(times)!r} {max(times)!r}", flush=True)
        for px in proxies:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(px.call.done_writing(), 5.0)
            px.call.cancel()
        print("stopped", flush=True)
    finally:
        for task in followers:
            task.cancel()
        for c in chans:
            await c.close(grace=None)


# --------------------------------------------------------------------------------------------
# Driver.


def _ints(text: str, low: int, high: int) -> list[int]:
    values = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not values or any(not low <= v <= high for v in values):
        raise argparse.ArgumentTypeError(f"values must be between {low} and {high}")
    return values


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=1000, help=f"N ServiceEntries/HTTPRoutes (default 1000, at most {MAX_N})")
    p.add_argument("--proxies", type=lambda s: _ints(s, 1, MAX_P), default=[10, 100, 500],
                   help="comma-separated P, connected proxies (default 10,100,500)")
    p.add_argument("--zones", type=int, default=5, help=f"Z, localities the proxies are spread over (default 5, at most {len(LOCALITIES)})")
    p.add_argument("--changes", type=int, default=5, help="C, route changes timed per P (default 5)")
    p.add_argument("--channels", type=int, default=8, help="gRPC channels the proxies share (default 8; at most P)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--json", action="store_true", help="also print every case's raw figures as JSON (stdout)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 0 < args.services <= MAX_N:
        p.error(f"--services must be between 1 and {MAX_N}")
    if not 0 < args.zones <= len(LOCALITIES):
        p.error(f"--zones must be between 1 and {len(LOCALITIES)}")
    if not 0 < args.channels <= MAX_CHANNELS:
        p.error(f"--channels must be between 1 and {MAX_CHANNELS}")
    if not 0 < args.changes <= 100:
        p.error("--changes must be between 1 and 100")
    require_upb()
    channels = min(args.channels, args.proxies[0])
    if args.client is not None:
        asyncio.run(run_client(args.client, args.services, args.proxies[0], args.zones, channels))
        return 0
    if args.worker:
        print(json.dumps(server_worker(args.services, args.proxies[0], args.zones, args.changes, channels)))
        return 0

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through run_worker(), which stops the worker group

    signal.signal(signal.SIGTERM, terminated)
    rows = []
    for n_proxies in args.proxies:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--services", str(args.services),
               "--proxies", str(n_proxies), "--zones", str(args.zones), "--changes", str(args.changes),
               "--channels", str(args.channels)]
        r = run_worker(cmd, f"P={n_proxies}")
        rows.append(r)
        print(f"P={r['p']:,}: load {r['load_s']:.1f} s; connect {r['connect_wall_s']:.2f} s wall, server CPU "
              f"{r['connect_cpu_s']:.2f} s, RSS +{r['rss_growth_mb']:.0f} MB, {r['contexts']} views; changes: "
              + ", ".join(f"all {s['all_s'] * 1000:.0f} ms (first {s['first_s'] * 1000:.0f}, CPU {s['cpu_s'] * 1000:.0f})"
                          for s in r["changes"]), file=sys.stderr, flush=True)
        if args.json:
            print(json.dumps(r), flush=True)
    header = ["P", "views", "connect CPU ms/proxy", "memory KiB/proxy", "change: first ms", "change: all ms",
              "change CPU ms"]
    table = [[f"{r['p']:,}", str(r["contexts"]), f"{r['cpu_per_proxy_ms']:.1f}", f"{r['mem_per_proxy_kb']:.0f}",
              f"{r['first_median_s'] * 1000:.0f}", f"{r['all_median_s'] * 1000:.0f}",
              f"{r['change_cpu_median_s'] * 1000:.0f}"] for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---:" for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print(f"N = {args.services:,} ServiceEntries and HTTPRoutes; proxies in {args.zones} zones over {args.channels} "
          f"channels, Delta ADS (CDS, EDS, LDS, RDS); medians of {args.changes} route changes; goal: all of 500 "
          f"within {GOAL_S * 1000:.0f} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
