"""Per-client views: P connected proxies in 10 localities against 10 proxies (ARCHITECTURE §4, §8).

Input: one Gateway, N STATIC ServiceEntries (10 endpoints each, one in each of the 10
localities r0..r4 / z0..z1), N HTTPRoutes with a `Hostname` backendRef to each host, and one
wildcard DestinationRule `*.bench.example.com` with outlierDetection (so locality load balancing
applies to every cluster: each proxy gets priorities relative to its own locality).

For each P, a fresh server subprocess loads the input into a ControlPlane and serves it over ADS
on 127.0.0.1 with `resolve=control.resolve` (timed by a wrapper); a client subprocess then
opens P Delta ADS streams over a few channels, each a fake proxy of the Gateway whose locality
is chosen round-robin among the 10, which subscribes to CDS (wildcard), ACKs, subscribes to EDS
for every cluster and ACKs (a failed stream is retried after a backoff, as Envoy would, and
reported). The server measures, from "go" until every stream has ACKed its
EDS: the CPU time spent in `control.resolve` (the per-client views: contexts built, placements
computed), the memory those views hold in the cache, its own total CPU time and the wall time.

    python bench/contexts.py [--services 1000] [--proxies 10,1000] [--channels 8] [--markdown]
    python bench/contexts.py --proxies 1000 --profile      # cProfile of the resolve calls
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from workers import STOP_GRACE_S, require_upb, run_worker

NAMESPACE = "bench"
GATEWAY = "bench-gw"
GATEWAY_KEY = f"{NAMESPACE}/{GATEWAY}"
DOMAIN = "bench.example.com"
PORT = 80
TARGET_PORT = 9080
ENDPOINTS = 10  # per ServiceEntry, one per locality
LOCALITIES = tuple((f"r{r}", f"z{z}") for r in range(5) for z in range(2))  # 10 localities
CREATED = "2025-01-01T00:00:00Z"
LISTEN_ADDRESS = "127.0.0.1"
MAX_N = 10_000
MAX_P = 5_000
MAX_CHANNELS = 100
CLIENT_READY_TIMEOUT_S = 120.0  # client process start → its channels connected
PHASE_TIMEOUT_S = 1800.0  # "go" → every proxy has ACKed its EDS
CONFIRM_TIMEOUT_S = 30.0  # the client reported every ACK sent → the server has read them all
CONFIRM_POLL_S = 0.005
READ_TIMEOUT_S = 600.0  # one fake proxy waiting for one response
RETRIES = 5  # per fake proxy, of a stream the server cancelled or refused
RETRY_BASE_S = 0.5
STATUS_WAIT_S = 10.0  # a failed write → the stream's final status
SEED = 20250101
STOP_TIMEOUT_S = 60.0
BUDGET = 2.0  # ARCHITECTURE §9 / issue 4: 1,000 proxies within 2× of 10


# --------------------------------------------------------------------------------------------
# Input.


def host(i: int) -> str:
    return f"svc-{i}.{DOMAIN}"


def cluster_name(i: int) -> str:
    """meshgate's cluster (and ClusterLoadAssignment) name for ServiceEntry i."""
    return f"outbound|{PORT}||{host(i)}"


def endpoint_ip(i: int, j: int) -> str:
    """A distinct 127.x.y.z address for endpoint j of ServiceEntry i (never contacted)."""
    k = i * ENDPOINTS + j + 1
    return f"127.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"


def locality_text(k: int) -> str:
    region, zone = LOCALITIES[k % len(LOCALITIES)]
    return f"{region}/{zone}"


def generate_yaml(n: int, per_host_rules: bool = False) -> str:
    """The benchmark input as one multi-document YAML text."""
    assert 0 < n <= MAX_N and n * ENDPOINTS < (1 << 24) - 1
    parts = [f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {GATEWAY}, namespace: {NAMESPACE}}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{LISTEN_ADDRESS}"}}]
  listeners:
  - {{name: http, port: 8080, protocol: HTTP}}
"""]
    outlier = "{consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 30s}"
    if not per_host_rules:
        parts.append(f"""---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: bench-all, namespace: {NAMESPACE}}}
spec:
  host: "*.{DOMAIN}"
  trafficPolicy:
    outlierDetection: {outlier}
""")
    for i in range(n):
        endpoints = "".join(f"  - {{address: {endpoint_ip(i, j)}, locality: {locality_text(j)}}}\n"
                            for j in range(ENDPOINTS))
        parts.append(f"""---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: se-{i}, namespace: {NAMESPACE}}}
spec:
  hosts: [{host(i)}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: {PORT}, name: http, protocol: HTTP, targetPort: {TARGET_PORT}}}]
  endpoints:
{endpoints}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: route-{i}, namespace: {NAMESPACE}}}
spec:
  parentRefs: [{{name: {GATEWAY}}}]
  hostnames: ["{host(i)}"]
  rules:
  - backendRefs: [{{group: networking.istio.io, kind: Hostname, name: "{host(i)}", port: {PORT}}}]
""")
        if per_host_rules:
            parts.append(f"""---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: dr-{i}, namespace: {NAMESPACE}}}
spec:
  host: {host(i)}
  trafficPolicy:
    outlierDetection: {outlier}
""")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Memory held by the per-client views.


def _deep_size(roots: list[Any], seen: set[int], count: bool = True) -> int:
    """Bytes of the objects reachable from `roots` and not in `seen` (which is extended).

    Walks containers, slotted dataclasses and protobuf messages (Python wrapper + ByteSize(), an
    estimate of the upb arena, which tracemalloc does not see). EndpointModel and other model
    objects are not descended into: the views share them with the shared view and the plans.
    """
    from dataclasses import fields, is_dataclass

    from google.protobuf.message import Message

    from meshgate.discovery.locality import Placement
    from meshgate.xds.cache import Entry
    from meshgate.xds.resources import Resource

    total = 0
    stack = list(roots)
    walk_types = (Entry, Resource, Placement)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        size = sys.getsizeof(obj)
        if isinstance(obj, Message):
            size += obj.ByteSize()
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, walk_types) and is_dataclass(obj):
            stack.extend(getattr(obj, f.name) for f in fields(obj))
        elif not isinstance(obj, (str, bytes, int, float, bool, type(None))):
            size = 0  # a model object shared with the plans: not the views' own
        if count:
            total += size
    return total


def view_memory(control: Any) -> dict[str, float]:
    """Bytes held by the per-client cache entries beyond what they share with the gateway's own
    entry, and by the placement cache (both MB)."""
    seen: set[int] = set()
    _deep_size([control.cache.entry(GATEWAY_KEY)], seen, count=False)
    keys = [k for k in control.cache.gateways() if k != GATEWAY_KEY]
    entries = _deep_size([control.cache.entry(k) for k in keys], seen)
    placements = _deep_size([control.builder.placements._entries], seen)
    return {"entries_mb": entries / 2**20, "placements_mb": placements / 2**20,
            "view_mb": (entries + placements) / 2**20}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------------------------
# The server worker: one P in this process, its fake proxies in a client subprocess.


class BenchError(RuntimeError):
    pass


class TimedResolve:
    """control.resolve, with the CPU and wall time spent in it (split: calls that built a
    context, calls that found one), optionally under cProfile."""

    def __init__(self, control: Any, profile: bool) -> None:
        self.control = control
        self.calls = 0
        self.builds = 0
        self.cpu_build = self.cpu_lookup = 0.0
        self.wall = 0.0
        self.rss_build_mb = 0.0  # RSS growth across the calls that built a context (a cross-check)
        self.profiler = cProfile.Profile() if profile else None

    def __call__(self, identity: Any, held: str = "") -> str:
        before = self.control.context_count
        rss0 = rss_mb()
        if self.profiler is not None:
            self.profiler.enable()
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            return self.control.resolve(identity, held)
        finally:
            cpu, wall = time.thread_time() - c0, time.perf_counter() - w0
            if self.profiler is not None:
                self.profiler.disable()
            self.calls += 1
            self.wall += wall
            if self.control.context_count != before:
                self.builds += 1
                self.cpu_build += cpu
                self.rss_build_mb += rss_mb() - rss0
            else:
                self.cpu_lookup += cpu


def _all_acked(registry: Any, p: int, n: int) -> tuple[bool, str]:
    """Whether P streams exist and each has ACKed its CDS and its EDS for all N clusters."""
    from meshgate.xds.resources import CLUSTER, ENDPOINT

    streams = registry.all()
    if len(streams) != p:
        return False, f"{len(streams)} of {p} streams"
    for st in streams:
        for t in (CLUSTER, ENDPOINT):
            ts = st.types.get(t)
            if ts is None or not ts.active or not ts.nonce:
                return False, f"stream {st.stream_id}: {t.rsplit('.', 1)[-1]} not sent yet"
            if ts.nacks:
                raise BenchError(f"stream {st.stream_id} NACKed {t}: {ts.nack}")
            if ts.acked_nonce != ts.nonce:
                return False, f"stream {st.stream_id}: {t.rsplit('.', 1)[-1]} not ACKed"
        if len(st.types[ENDPOINT].names) != n:
            return False, f"stream {st.stream_id}: EDS subscribed to {len(st.types[ENDPOINT].names)} of {n}"
    return True, "all ACKed"


async def _readline(stream: asyncio.StreamReader, timeout: float, what: str) -> str:
    try:
        line = await asyncio.wait_for(stream.readline(), timeout)
    except TimeoutError:
        raise BenchError(f"client: no {what} within {timeout:g} s") from None
    if not line:
        raise BenchError(f"client exited before {what}")
    return line.decode().strip()


async def run_server(n: int, p: int, channels: int, per_host_rules: bool, profile: bool) -> dict:
    from meshgate.providers.files import FileProvider
    from meshgate.resources.loader import InputLimits

    # One generated file holds the whole configuration: far over the limits meant for hand-written files.
    limits = InputLimits(max_file_bytes=1 << 31, max_documents=10_000_000)
    from meshgate.runtime.controller import ControlPlane
    from meshgate.runtime.metrics import Metrics
    from meshgate.xds.cache import SnapshotCache
    from meshgate.xds.resources import CLUSTER, ENDPOINT
    from meshgate.xds.server import AggregatedDiscoveryService, start_server
    from meshgate.xds.streams import StreamRegistry

    require_upb()
    out: dict[str, Any] = {"n": n, "p": p, "channels": channels, "per_host_rules": per_host_rules}
    with tempfile.TemporaryDirectory(prefix="meshgate-bench-contexts-") as tmp:
        cfgdir = Path(tmp) / "config"
        cfgdir.mkdir()
        (cfgdir / "bench.yaml").write_text(generate_yaml(n, per_host_rules))

        cache = SnapshotCache()
        metrics = Metrics()
        registry = StreamRegistry()
        control = ControlPlane(FileProvider([cfgdir], limits), cache, metrics)
        t = time.perf_counter()
        control.load()
        out["load_s"] = time.perf_counter() - t
        errors = [err for err in control.errors if err.severity == "error"]
        if errors:
            raise BenchError(f"benchmark input has errors: {errors[:3]}")
        if [c.key for c in control.configs] != [GATEWAY_KEY]:
            raise BenchError(f"expected the one gateway {GATEWAY_KEY}, got {[c.key for c in control.configs]}")
        entry = cache.entry(GATEWAY_KEY)
        if len(entry.resources[CLUSTER]) != n or len(entry.resources[ENDPOINT]) != n:
            raise BenchError(f"expected {n} clusters and assignments, got {len(entry.resources[CLUSTER])} "
                             f"and {len(entry.resources[ENDPOINT])}")
        per_client = control._per_client.get(GATEWAY_KEY, [])
        if len(per_client) != n:
            raise BenchError(f"expected {n} per-client clusters (locality LB), got {len(per_client)}")
        if control.context_count:
            raise BenchError("contexts exist before any proxy connected")
        placements = control.builder.placements
        comp0, hits0 = placements.computations, placements.hits

        timed = TimedResolve(control, profile)
        service = AggregatedDiscoveryService(cache, registry, metrics, resolve=timed)
        server, port = await start_server(service, LISTEN_ADDRESS, 0)
        client = None
        try:
            cmd = [sys.executable, os.path.abspath(__file__), "--client", str(port), "--services", str(n),
                   "--proxies", str(p), "--channels", str(channels)]
            client = await asyncio.create_subprocess_exec(
                *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True)
            assert client.stdin is not None and client.stdout is not None
            line = await _readline(client.stdout, CLIENT_READY_TIMEOUT_S, "ready")
            if line != "ready":
                raise BenchError(f"client said {line!r}, expected 'ready'")

            rss0 = rss_mb()
            w0, c0 = time.perf_counter(), time.process_time()
            client.stdin.write(b"go\n")
            await client.stdin.drain()
            line = await _readline(client.stdout, PHASE_TIMEOUT_S, "ACKs")
            if not line.startswith("acked "):
                raise BenchError(f"client said {line!r}, expected 'acked ...'")
            deadline = time.perf_counter() + CONFIRM_TIMEOUT_S
            while True:
                ok, state = _all_acked(registry, p, n)
                if ok:
                    break
                if time.perf_counter() >= deadline:
                    raise BenchError(f"the server did not see every ACK within {CONFIRM_TIMEOUT_S:g} s: {state}")
                await asyncio.sleep(CONFIRM_POLL_S)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            rss1 = rss_mb()
            out.update(json.loads(line[len("acked "):]))  # the client's own figures

            keys = {st.cache_key for st in registry.all()}
            out.update({
                "wall_s": wall,
                "server_cpu_s": cpu,
                "per_proxy_ms": cpu / p * 1000,
                "rss_growth_mb": rss1 - rss0,
                "contexts": control.context_count,
                "cache_keys_used": len(keys),
                "placement_computations": placements.computations - comp0,
                "placement_hits": placements.hits - hits0,
                "resolve_calls": timed.calls,
                "resolve_builds": timed.builds,
                "resolve_cpu_ms": (timed.cpu_build + timed.cpu_lookup) * 1000,
                "resolve_build_cpu_ms": timed.cpu_build * 1000,
                "resolve_lookup_cpu_ms": timed.cpu_lookup * 1000,
                "resolve_wall_ms": timed.wall * 1000,
                "resolve_build_rss_mb": timed.rss_build_mb,
            })
            out.update(view_memory(control))
            if timed.calls < p or (timed.calls != p and not out["retries"]):
                raise BenchError(f"resolve called {timed.calls} times for {p} proxies (retries: {out['retries']})")
            if GATEWAY_KEY in keys:
                raise BenchError("a proxy was served the shared view, not its context's")

            client.stdin.write(b"stop\n")
            await client.stdin.drain()
            line = await _readline(client.stdout, STOP_TIMEOUT_S, "stop")
            await asyncio.wait_for(client.wait(), STOP_TIMEOUT_S)
            if client.returncode != 0:
                raise BenchError(f"client exited with {client.returncode}")
            if timed.profiler is not None:
                buf = io.StringIO()
                stats = pstats.Stats(timed.profiler, stream=buf)
                stats.sort_stats("cumulative").print_stats(20)
                stats.sort_stats("tottime").print_stats(15)
                out["profile"] = buf.getvalue()
        finally:
            if client is not None and client.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    client.kill()  # our own child, by its pid
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wait(), STOP_GRACE_S)
            await server.stop(grace=1.0)
    return out


def server_worker(n: int, p: int, channels: int, per_host_rules: bool, profile: bool) -> dict:
    async def main() -> dict:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        return await run_server(n, p, channels, per_host_rules, profile)

    return asyncio.run(main())


# --------------------------------------------------------------------------------------------
# The client worker: P fake proxies (Delta ADS) over a few channels.

_CALLS: list[Any] = []  # the open streams, closed on "stop"


class StreamFailed(Exception):
    """A fake proxy's stream ended with a gRPC status (`code`: the StatusCode's name)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


async def _fake_proxy(stub: Any, k: int, n: int, types: Any) -> tuple[int, int]:
    """One proxy: CDS wildcard, ACK, EDS for every cluster, ACK. Returns the CDS and EDS
    responses' sizes in bytes; StreamFailed when the stream ends with a gRPC error."""
    import grpc
    from envoy.config.core.v3 import base_pb2
    from envoy.config.endpoint.v3 import endpoint_pb2
    from envoy.service.discovery.v3 import discovery_pb2

    cds_url, eds_url = types
    region, zone = LOCALITIES[k % len(LOCALITIES)]
    node = base_pb2.Node(id=f"bench-proxy-{k}", cluster=GATEWAY_KEY,
                         locality=base_pb2.Locality(region=region, zone=zone))
    node.metadata.fields["meshgate.io/gateway"].string_value = GATEWAY_KEY
    call = stub.DeltaAggregatedResources(wait_for_ready=True)
    req = discovery_pb2.DeltaDiscoveryRequest

    async def read(type_url: str) -> Any:
        resp = await asyncio.wait_for(call.read(), READ_TIMEOUT_S)
        if resp is grpc.aio.EOF:
            raise BenchError(f"proxy {k}: stream ended")
        if resp.type_url != type_url:
            raise BenchError(f"proxy {k}: got {resp.type_url}, expected {type_url}")
        if len(resp.resources) != n:
            raise BenchError(f"proxy {k}: {len(resp.resources)} {type_url} resources, expected {n}")
        return resp

    try:
        await call.write(req(node=node, type_url=cds_url))
        cds = await read(cds_url)
        names = [r.name for r in cds.resources]
        await call.write(req(type_url=cds_url, response_nonce=cds.nonce))
        await call.write(req(type_url=eds_url, resource_names_subscribe=names))
        eds = await read(eds_url)
        await call.write(req(type_url=eds_url, response_nonce=eds.nonce))
    except grpc.aio.AioRpcError as exc:
        # Writing to a stream the server has already ended fails with INTERNAL ("Failed
        # execute_batch") before the status arrives: report the stream's own status instead.
        try:
            code, details = (await asyncio.wait_for(call.code(), STATUS_WAIT_S)), await call.details()
        except TimeoutError:
            code, details = exc.code(), exc.details()
        raise StreamFailed(f"{code.name} {details!r}", code.name) from exc
    # Its own view: the endpoints of its own locality (one per cluster) come first.
    cla = endpoint_pb2.ClusterLoadAssignment.FromString(eds.resources[0].resource.value)
    first = [(lle.locality.region, lle.locality.zone) for lle in cla.endpoints if lle.priority == 0]
    if first != [(region, zone)]:
        raise BenchError(f"proxy {k} in {region}/{zone}: priority 0 is {first}, not its own locality")
    _CALLS.append(call)
    return cds.ByteSize(), eds.ByteSize()


async def run_client(port: int, n: int, p: int, channels: int) -> None:
    import grpc
    from envoy.service.discovery.v3 import ads_pb2_grpc

    from meshgate.xds.resources import CLUSTER, ENDPOINT

    require_upb()
    options = [("grpc.use_local_subchannel_pool", 1),  # one TCP connection per channel
               ("grpc.max_receive_message_length", 256 * 1024 * 1024)]
    chans = [grpc.aio.insecure_channel(f"{LISTEN_ADDRESS}:{port}", options=options) for _ in range(channels)]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.channel_ready() for c in chans)), CLIENT_READY_TIMEOUT_S)
        stubs = [ads_pb2_grpc.AggregatedDiscoveryServiceStub(c) for c in chans]
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print("ready", flush=True)
        if (await asyncio.wait_for(reader.readline(), PHASE_TIMEOUT_S)).strip() != b"go":
            raise BenchError("client: expected 'go'")
        w0, c0 = time.perf_counter(), time.process_time()
        retries: dict[str, int] = {}  # failure → count
        rng = random.Random(SEED)

        async def proxy(k: int) -> tuple[int, int]:
            # As Envoy does, a stream that fails (with any gRPC status) is retried after a jittered
            # backoff (base RETRY_BASE_S, doubling), at most RETRIES times.
            for attempt in range(RETRIES + 1):
                try:
                    return await _fake_proxy(stubs[k % channels], k, n, (CLUSTER, ENDPOINT))
                except StreamFailed as exc:
                    if attempt == RETRIES:
                        raise BenchError(f"proxy {k} (channel {k % channels}) failed "
                                         f"{time.perf_counter() - w0:.1f} s after go, attempt {attempt + 1}: "
                                         f"{exc}") from exc
                    retries[str(exc)] = retries.get(str(exc), 0) + 1
                    await asyncio.sleep(RETRY_BASE_S * 2 ** attempt * rng.uniform(0.5, 1.5))
            raise AssertionError("unreachable")

        sizes = await asyncio.wait_for(asyncio.gather(*(proxy(k) for k in range(p))), PHASE_TIMEOUT_S)
        figures = {"client_wall_s": time.perf_counter() - w0, "client_cpu_s": time.process_time() - c0,
                   "retries": retries, "cds_kib": sizes[0][0] / 1024, "eds_kib": sizes[0][1] / 1024}
        print("acked " + json.dumps(figures), flush=True)
        await asyncio.wait_for(reader.readline(), STOP_TIMEOUT_S)  # "stop" (or EOF)
        for call in _CALLS:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(call.done_writing(), 5.0)
            call.cancel()
        print("stopped", flush=True)
    finally:
        for c in chans:
            await c.close(grace=None)


# --------------------------------------------------------------------------------------------
# Driver.


def spawn(n: int, p: int, channels: int, per_host_rules: bool, profile: bool) -> dict:
    """One P in a fresh interpreter and its own process group (with its client process)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--services", str(n), "--proxies", str(p),
           "--channels", str(channels)] + (["--per-host-rules"] if per_host_rules else []) \
        + (["--profile"] if profile else [])
    return run_worker(cmd, f"P={p}")



def _ints(text: str, low: int, high: int) -> list[int]:
    values = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not values or any(not low <= v <= high for v in values):
        raise argparse.ArgumentTypeError(f"values must be between {low} and {high}")
    return values


def _per_call_us(r: dict) -> str:
    lookups = r["resolve_calls"] - r["resolve_builds"]
    return "–" if not lookups else f"{r['resolve_lookup_cpu_ms'] * 1000 / lookups:.0f}"


def _ratio(a: float, b: float) -> str:
    return "–" if not b else f"{a / b:.2f}×"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=1000, help=f"N ServiceEntries/HTTPRoutes (default 1000, at most {MAX_N})")
    p.add_argument("--proxies", type=lambda s: _ints(s, 1, MAX_P), default=[10, 1000],
                   help="comma-separated P, connected proxies (default 10,1000)")
    p.add_argument("--channels", type=int, default=8,
                   help="gRPC channels (TCP connections) the fake proxies share (default 8; at most P)")
    p.add_argument("--per-host-rules", action="store_true",
                   help="one DestinationRule per host instead of one wildcard rule")
    p.add_argument("--profile", action="store_true", help="cProfile the resolve calls (printed on stderr)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    p.add_argument("--json", action="store_true", help="also print every case's raw figures as JSON (stderr)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 0 < args.services <= MAX_N:
        p.error(f"--services must be between 1 and {MAX_N}")
    if not 0 < args.channels <= MAX_CHANNELS:
        p.error(f"--channels must be between 1 and {MAX_CHANNELS}")
    require_upb()

    if args.client is not None:
        asyncio.run(run_client(args.client, args.services, args.proxies[0], min(args.channels, args.proxies[0])))
        return 0
    if args.worker:
        print(json.dumps(server_worker(args.services, args.proxies[0], min(args.channels, args.proxies[0]),
                                       args.per_host_rules, args.profile)))
        return 0

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through spawn(), which stops the worker group

    signal.signal(signal.SIGTERM, terminated)
    rows = []
    for n_proxies in args.proxies:
        r = spawn(args.services, n_proxies, args.channels, args.per_host_rules, args.profile)
        rows.append(r)
        print(f"P={r['p']:,}: {r['contexts']} contexts ({r['cache_keys_used']} used), "
              f"{r['placement_computations']} placement computations, {r['placement_hits']} hits; resolve "
              f"{r['resolve_calls']} calls, CPU {r['resolve_cpu_ms']:.0f} ms = {r['resolve_builds']} builds "
              f"{r['resolve_build_cpu_ms']:.0f} ms + lookups {r['resolve_lookup_cpu_ms']:.0f} ms; view memory "
              f"{r['view_mb']:.1f} MB (entries {r['entries_mb']:.1f}, placements {r['placements_mb']:.1f}; RSS growth "
              f"in builds {r['resolve_build_rss_mb']:.1f} MB); server CPU {r['server_cpu_s']:.2f} s, wall "
              f"{r['wall_s']:.2f} s, RSS growth {r['rss_growth_mb']:.0f} MB; client CPU {r['client_cpu_s']:.2f} s, "
              f"streams retried {sum(r['retries'].values())} ({r['retries'] or 'none'}); "
              f"per proxy CDS {r['cds_kib']:.0f} KiB + EDS {r['eds_kib']:.0f} KiB; load {r['load_s']:.1f} s",
              file=sys.stderr, flush=True)
        if args.profile:
            print(f"--- profile of control.resolve, P={r['p']:,} ---\n{r['profile']}", file=sys.stderr, flush=True)
        if args.json:
            print(json.dumps({k: v for k, v in r.items() if k != "profile"}), file=sys.stderr, flush=True)

    header = ["P", "contexts", "placement computations", "resolve CPU ms", "view memory MB",
              "server CPU s", "wall s", "per-proxy ms", "RSS growth MB"]
    table = [[f"{r['p']:,}", str(r["contexts"]), f"{r['placement_computations']:,}", f"{r['resolve_cpu_ms']:.0f}",
              f"{r['view_mb']:.1f}", f"{r['server_cpu_s']:.2f}", f"{r['wall_s']:.2f}", f"{r['per_proxy_ms']:.1f}",
              f"{r['rss_growth_mb']:.0f}"]
             for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---:" for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    if len(rows) > 1:
        lo, hi = min(rows, key=lambda r: r["p"]), max(rows, key=lambda r: r["p"])
        views = hi["resolve_cpu_ms"] / lo["resolve_cpu_ms"] if lo["resolve_cpu_ms"] else float("inf")
        verdict = "within" if views <= BUDGET else "NOT within"
        print(f"\n{hi['p']:,}/{lo['p']:,} proxies: per-client views (resolve CPU) {_ratio(hi['resolve_cpu_ms'], lo['resolve_cpu_ms'])} "
              f"({verdict} {BUDGET:g}×); placement computations {_ratio(hi['placement_computations'], lo['placement_computations'])}; "
              f"view memory {_ratio(hi['view_mb'], lo['view_mb'])}; total server CPU {_ratio(hi['server_cpu_s'], lo['server_cpu_s'])}, "
              f"wall {_ratio(hi['wall_s'], lo['wall_s'])}, per-proxy CPU {_ratio(hi['per_proxy_ms'], lo['per_proxy_ms'])}.")
        for r in (lo, hi):
            print(f"P={r['p']:,}: resolve CPU = {r['resolve_builds']} context builds {r['resolve_build_cpu_ms']:.0f} ms "
                  f"+ {r['resolve_calls'] - r['resolve_builds']:,} lookups {r['resolve_lookup_cpu_ms']:.0f} ms "
                  f"({_per_call_us(r)} µs each)"
                  + (f"; {sum(r['retries'].values())} streams failed and were retried "
                     f"({', '.join(f'{v}× {k}' for k, v in r['retries'].items())})." if r["retries"] else "."))
    rules = "one DestinationRule per host" if args.per_host_rules else "one wildcard DestinationRule"
    print(f"N = {args.services:,} ServiceEntries × {ENDPOINTS} endpoints in {len(LOCALITIES)} localities, {rules}; "
          f"Delta ADS, CDS + EDS, {args.channels} channels; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
