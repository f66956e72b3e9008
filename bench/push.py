"""Push benchmark: one EndpointSlice change → Envoy ACK, against a real Envoy (ARCHITECTURE §9).

Input: bench/translate.py's generator (one Gateway, N Services × E endpoints, N HTTPRoutes),
with the Gateway's HTTP listener moved to a free 127.0.0.1 port. For each N and protocol (Delta
or State-of-the-World ADS), a fresh subprocess loads the input into a ControlPlane, serves it
over ADS on 127.0.0.1 and starts one managed Envoy for the Gateway. Once Envoy has ACKed its
initial CDS/EDS/LDS/RDS, it makes C changes, one after the other, each:

    t0; control.apply(ChangeSet(upserts=[slice with one endpoint address changed]))
    await cache.notify(); then poll (every 0.5 ms) until the stream's EDS acked_nonce is the
    nonce of the new push; t1

and reports the median, p99 and max of t1 - t0, with where the time went (controller, server,
Envoy + transport, and the garbage collector's pauses within), plus the initial time-to-ready.
After the last change, Envoy's admin /config_dump must hold the new address.

    python bench/push.py [--sizes 100,1000,10000] [--changes 100] [--protocols delta,sotw] [--markdown]
    python bench/push.py --sizes 10000 --gc-freeze    # what-if: gc.freeze() once Envoy is ready
    python bench/push.py --sizes 1000 --protocols delta --compare-policies none,routes,all [--rounds 3]

`--compare-policies`: each mode (bench/policies.py's, or none) gets --rounds cases of C changes,
the modes' cases taken in turn, and their changes pooled: medians and ratios to the first mode
from one run, so that the shared machine's drift falls on every mode alike.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import logging
import math
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

import translate
from workers import require_upb, run_worker

GATEWAY_KEY = f"{translate.NAMESPACE}/{translate.GATEWAY}"  # "bench/bench-gw"
LISTEN_ADDRESS = "127.0.0.1"
PROTOCOLS = ("delta", "sotw")
MAX_N = 100_000
MAX_CHANGES = 10_000
MAX_WARMUP = 100
MAX_ROUNDS = 20  # cases per mode with --compare-policies
POLL_S = 0.0005  # ACK polling interval
ACK_TIMEOUT_S = 30.0  # one change → ACK
READY_TIMEOUT_S = 600.0  # Envoy start → initial config ACKed (10,000 services over SotW is slow)
READY_POLL_S = 0.01
GAP_S = 0.02  # pause between changes, so that one change's tail does not overlap the next
SEED = 20250101


# --------------------------------------------------------------------------------------------
# Input.


def free_port(host: str = LISTEN_ADDRESS) -> int:
    """A TCP port free on `host` right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def bench_yaml(n: int, e: int, port: int, policies: str | None = None) -> str:
    """translate.generate_yaml(n, e) with the Gateway bound to 127.0.0.1:port (not 0.0.0.0:80);
    with `policies`, bench/policies.py's BackendTrafficPolicies too."""
    text = translate.generate_yaml(n, e)
    if policies:
        from policies import policies_yaml
        text += "\n---\n" + policies_yaml(translate.NAMESPACE, translate.GATEWAY,
                                          [translate.route_name(i) for i in range(n)], policies)
    old = "  gatewayClassName: meshgate\n  listeners:\n  - name: http\n    port: 80\n"
    new = (f"  gatewayClassName: meshgate\n  addresses: [{{type: IPAddress, value: \"{LISTEN_ADDRESS}\"}}]\n"
           f"  listeners:\n  - name: http\n    port: {port}\n")
    assert text.count(old) == 1, "bench/translate.py's Gateway changed: update bench_yaml"
    return text.replace(old, new, 1)


def cluster_name(i: int, policies: str | None = None) -> str:
    """meshgate's EDS cluster (and ClusterLoadAssignment) name for Service i (route i's backend);
    with policies, its policy's variant (bench/policies.py: every tenth route's own, else the
    Gateway's)."""
    subset = ""
    if policies:
        from policies import EVERY
        if i % EVERY == 0:
            subset = f"policy.{translate.NAMESPACE}.route-policy-{i}"
        elif policies == "all":
            subset = f"policy.{translate.NAMESPACE}.gateway-wide"
    return f"outbound|{translate.PORT}|{subset}|{translate.service_name(i)}.{translate.NAMESPACE}.svc.cluster.local"


def fresh_address(k: int) -> str:
    """The k-th 127.x.y.z address above every generated one (those are 1 .. N*E)."""
    assert 0 < k < (1 << 24) - 1
    return f"127.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"


# --------------------------------------------------------------------------------------------
# The worker: one (N, protocol) in this process.


class Recorder:
    """The server's events, passed on to the metrics, with EDS push times kept while recording."""

    def __init__(self, metrics: Any) -> None:
        self.metrics = metrics
        self.recording = False
        self.pushes: list[tuple[str, float, float]] = []  # (type URL, perf_counter when built, build s)
        self.responses: list[Any] = []  # the responses built while recording (sized after the change)

    def wrap(self, respond: Any) -> Any:
        """A server's response builder, its responses kept while recording: the bytes pushed are
        those of the responses really sent, whatever the protocol puts in them."""
        def recorded(*args: Any, **kwargs: Any) -> Any:
            resp = respond(*args, **kwargs)
            if resp is not None and self.recording:
                self.responses.append(resp)
            return resp
        return recorded

    def stream_opened(self, protocol: str) -> None:
        self.metrics.stream_opened(protocol)

    def stream_closed(self, protocol: str) -> None:
        self.metrics.stream_closed(protocol)

    def pushed(self, type_url: str, seconds: float) -> None:
        self.metrics.pushed(type_url, seconds)
        if self.recording:
            self.pushes.append((type_url, time.perf_counter(), seconds))

    def nacked(self, type_url: str) -> None:
        self.metrics.nacked(type_url)

    def denied(self) -> None:
        self.metrics.denied()

    def stream_refused(self, reason: str) -> None:
        self.metrics.stream_refused(reason)

    def converged(self, seconds: float) -> None:
        self.metrics.converged(seconds)


class GcWatch:
    """Time spent in the cyclic garbage collector (via gc.callbacks), by generation."""

    def __init__(self) -> None:
        self.total = 0.0
        self.full = 0  # generation-2 collections
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            if info.get("generation") == 2:
                self.full += 1


class BenchError(RuntimeError):
    pass


def _one_stream(registry: Any) -> Any:
    streams = registry.all()
    if len(streams) != 1:
        raise BenchError(f"expected one xDS stream, found {len(streams)}")
    return streams[0]


def _ready(registry: Any, n: int) -> tuple[bool, str]:
    """Whether the one Envoy has ACKed everything sent, with EDS sent for all N clusters."""
    from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE, SHORT_NAMES

    streams = registry.all()
    if len(streams) != 1:
        return False, f"{len(streams)} streams"
    st = streams[0]
    for t in (CLUSTER, ENDPOINT, LISTENER, ROUTE):
        ts = st.types.get(t)
        if ts is None or not ts.active or not ts.nonce:
            return False, f"{SHORT_NAMES[t]} not requested/sent yet"
        if ts.nacks:
            raise BenchError(f"Envoy NACKed the initial {SHORT_NAMES[t]}: {ts.nack}")
    for t, ts in st.types.items():
        if ts.active and ts.acked_nonce != ts.nonce:
            return False, f"{SHORT_NAMES.get(t, t)} nonce {ts.nonce} not ACKed (acked {ts.acked_nonce!r})"
    eds = st.types[ENDPOINT]
    subscribed = len(eds.names) if not eds.wildcard else n
    if subscribed != n:
        return False, f"EDS subscribed to {subscribed} of {n} clusters"
    return True, "ready"


async def _wait_ready(registry: Any, n: int, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    state = "no stream"
    while time.perf_counter() < deadline:
        ok, state = _ready(registry, n)
        if ok:
            return
        await asyncio.sleep(READY_POLL_S)
    raise BenchError(f"Envoy not ready within {timeout:g} s: {state}")


async def _wait_ack(st: Any, ts: Any, old_nonce: str, old_nacks: int, timeout: float) -> float:
    """Poll until `ts` ACKs a response newer than `old_nonce`; perf_counter then."""
    deadline = time.perf_counter() + timeout
    while True:
        now = time.perf_counter()
        if ts.nacks != old_nacks:
            raise BenchError(f"Envoy NACKed EDS nonce {ts.nonce}: {ts.nack}")
        if ts.nonce != old_nonce and ts.acked_nonce == ts.nonce:
            return now
        if now >= deadline:
            raise BenchError(f"EDS push not ACKed within {timeout:g} s (nonce before {old_nonce!r}, "
                             f"sent {ts.nonce!r}, acked {ts.acked_nonce!r}, stream {st.stream_id})")
        await asyncio.sleep(POLL_S)


def _assignment_bytes(resp: Any) -> int:
    """The serialized ClusterLoadAssignments a response carries (SotW: Anys; Delta: Resources)."""
    return sum(len(r.resource.value) if hasattr(r, "resource") else len(r.value) for r in resp.resources)


def _proc_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    return translate.peak_rss_mb()


def nearest_rank(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1): p99 of 100 values is the 99th smallest."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


async def _envoy_endpoints(envoy: Any, cluster: str) -> set[str]:
    """The endpoint addresses Envoy holds for one cluster, from its admin /config_dump."""
    import re

    body = await envoy.admin_get(
        f"/config_dump?resource=dynamic_endpoint_configs&include_eds&name_regex=^{re.escape(cluster)}$",
        timeout=60.0)
    dump = json.loads(body)
    out: set[str] = set()
    for cfg in dump.get("configs", []):
        ec = cfg.get("endpoint_config", cfg)
        if ec.get("cluster_name") != cluster:
            continue
        for lle in ec.get("endpoints", []):
            for lb in lle.get("lb_endpoints", []):
                out.add(lb["endpoint"]["address"]["socket_address"]["address"])
    return out


async def run_case(n: int, e: int, protocol: str, changes: int, warmup: int, log_level: str,
                   gc_freeze: bool = False, policies: str | None = None) -> dict:
    from meshgate.envoy.bootstrap import ads_bootstrap
    from meshgate.envoy.process import ManagedEnvoy
    from meshgate.providers.files import ChangeSet, FileProvider
    from meshgate.resources.loader import InputLimits

    # One generated file holds the whole configuration: far over the limits meant for hand-written files.
    limits = InputLimits(max_file_bytes=1 << 31, max_documents=10_000_000)
    from meshgate.runtime.controller import ControlPlane
    from meshgate.runtime.metrics import Metrics
    from meshgate.xds.cache import SnapshotCache
    from meshgate.xds.resources import ENDPOINT, LISTENER, SHORT_NAMES
    from meshgate.xds.server import AggregatedDiscoveryService, start_server
    from meshgate.xds.streams import StreamRegistry

    require_upb()
    out: dict[str, Any] = {"n": n, "e": e, "protocol": protocol}
    with tempfile.TemporaryDirectory(prefix="meshgate-bench-push-") as tmp:
        tmpdir = Path(tmp)
        cfgdir = tmpdir / "config"
        cfgdir.mkdir()
        port = free_port()
        (cfgdir / "bench.yaml").write_text(bench_yaml(n, e, port, policies))

        cache = SnapshotCache()
        metrics = Metrics()
        registry = StreamRegistry()
        recorder = Recorder(metrics)
        control = ControlPlane(FileProvider([cfgdir], limits), cache, metrics)
        t = time.perf_counter()
        control.load()
        out["load_s"] = time.perf_counter() - t
        errors = [err for err in control.errors if err.severity == "error"]
        if errors:
            raise BenchError(f"benchmark input has errors: {errors[:3]}")
        keys = [c.key for c in control.configs]
        if keys != [GATEWAY_KEY]:
            raise BenchError(f"expected the one gateway {GATEWAY_KEY}, got {keys}")
        entry = cache.entry(GATEWAY_KEY)
        if len(entry.resources[ENDPOINT]) != n:
            raise BenchError(f"expected {n} ClusterLoadAssignments, got {len(entry.resources[ENDPOINT])}")
        (listener,) = entry.resources[LISTENER].values()
        from envoy.config.listener.v3 import listener_pb2
        sa = listener_pb2.Listener.FromString(listener.body.value).address.socket_address
        if (sa.address, sa.port_value) != (LISTEN_ADDRESS, port):
            raise BenchError(f"listener on {sa.address}:{sa.port_value}, expected {LISTEN_ADDRESS}:{port}")

        service = AggregatedDiscoveryService(cache, registry, recorder)
        service._sotw_response = recorder.wrap(service._sotw_response)  # type: ignore[method-assign]
        service._delta_response = recorder.wrap(service._delta_response)  # type: ignore[method-assign]
        server, xds_port = await start_server(service, LISTEN_ADDRESS, 0)
        envoy = None
        try:
            boot = ads_bootstrap(GATEWAY_KEY, LISTEN_ADDRESS, xds_port, delta=protocol == "delta")
            envoy = ManagedEnvoy(GATEWAY_KEY, boot, tmpdir, log_level=log_level)
            t = time.perf_counter()
            await envoy.start(timeout=READY_TIMEOUT_S)
            out["live_s"] = time.perf_counter() - t
            await _wait_ready(registry, n, max(1.0, READY_TIMEOUT_S - out["live_s"]))
            out["ready_s"] = time.perf_counter() - t
            st = _one_stream(registry)
            if st.protocol != protocol:
                raise BenchError(f"stream speaks {st.protocol}, expected {protocol}")
            eds = st.types[ENDPOINT]
            if gc_freeze:
                gc.collect()
                gc.freeze()  # what-if: the loaded config out of the collector's reach (not meshgate's default)
            out["gc_freeze"] = gc_freeze

            rng = random.Random(SEED)
            fresh = n * e  # generated addresses are 1 .. n*e (translate.endpoint_ip)
            totals: list[float] = []
            controller: list[float] = []  # apply + notify
            applies: list[float] = []
            servers: list[float] = []  # notify done → EDS response built
            builds: list[float] = []  # building the EDS response alone
            rest: list[float] = []  # response built → ACK seen: gRPC, Envoy, ACK back, our polling
            push_bytes: list[int] = []
            extra_pushes: dict[str, int] = {}
            gc_ms: list[float] = []  # time in the garbage collector during each change
            gc_full = 0  # changes during which a full (generation 2) collection ran
            gcw = GcWatch()
            last: tuple[str, str] | None = None
            for k in range(warmup + changes):
                i = rng.randrange(n)
                name = f"{translate.service_name(i)}-abcde"
                old = control.store.get("EndpointSlice", translate.NAMESPACE, name)
                if old is None:
                    raise BenchError(f"EndpointSlice {translate.NAMESPACE}/{name} not in the store")
                j = rng.randrange(len(old.endpoints))
                fresh += 1
                address = fresh_address(fresh)
                eps = list(old.endpoints)
                eps[j] = dataclasses.replace(eps[j], addresses=(address,))
                new = dataclasses.replace(old, endpoints=tuple(eps))
                cluster = cluster_name(i, policies)

                old_nonce, old_nacks = eds.nonce, eds.nacks
                other_nonces = {tu: ts.nonce for tu, ts in st.types.items() if tu != ENDPOINT}
                recorder.pushes.clear()
                recorder.responses.clear()
                recorder.recording = True
                gc_before, full_before = gcw.total, gcw.full
                gc.callbacks.append(gcw)
                t0 = time.perf_counter()
                path = control.apply(ChangeSet(upserts=[new]))
                t_apply = time.perf_counter()
                await cache.notify()
                t_notify = time.perf_counter()
                try:
                    t1 = await _wait_ack(st, eds, old_nonce, old_nacks, ACK_TIMEOUT_S)
                finally:
                    gc.callbacks.remove(gcw)
                recorder.recording = False
                if path != "endpoints":
                    raise BenchError(f"change {k}: the controller took the {path!r} path, expected 'endpoints'")
                if _one_stream(registry) is not st:
                    raise BenchError(f"change {k}: Envoy reconnected")
                eds_pushes = [p for p in recorder.pushes if p[0] == ENDPOINT]
                for tu, ts in st.types.items():
                    if tu != ENDPOINT and ts.nonce != other_nonces.get(tu):
                        extra_pushes[SHORT_NAMES.get(tu, tu)] = extra_pushes.get(SHORT_NAMES.get(tu, tu), 0) + 1
                if not eds_pushes:
                    raise BenchError(f"change {k}: an EDS nonce was ACKed but no EDS push was recorded")
                if len(eds_pushes) != 1:
                    extra_pushes["EDS"] = extra_pushes.get("EDS", 0) + len(eds_pushes) - 1
                if k >= warmup:
                    totals.append(t1 - t0)
                    gc_ms.append((gcw.total - gc_before) * 1000)
                    gc_full += gcw.full != full_before
                    applies.append(t_apply - t0)
                    controller.append(t_notify - t0)
                    servers.append(eds_pushes[0][1] - t_notify)
                    builds.append(eds_pushes[0][2])
                    rest.append(t1 - eds_pushes[-1][1])
                    push_bytes.append(_assignment_bytes(next(r for r in recorder.responses if r.type_url == ENDPOINT)))
                last = (cluster, address)
                await asyncio.sleep(GAP_S)

            # Envoy really holds the last change (an ACK means it accepted the update).
            assert last is not None
            held = await _envoy_endpoints(envoy, last[0])
            if last[1] not in held:
                raise BenchError(f"Envoy ACKed, but its config_dump of {last[0]} lacks {last[1]}: {sorted(held)}")
            out["verified"] = f"{last[0]} holds {last[1]}"

            ms = [x * 1000 for x in totals]
            out.update({
                "changes": len(totals),
                "warmup": warmup,
                "median_ms": statistics.median(ms),
                "p99_ms": nearest_rank(ms, 0.99),
                "max_ms": max(ms),
                "mean_ms": statistics.fmean(ms),
                "controller_median_ms": statistics.median(controller) * 1000,
                "apply_median_ms": statistics.median(applies) * 1000,
                "server_median_ms": statistics.median(servers) * 1000,
                "build_median_ms": statistics.median(builds) * 1000,
                "envoy_median_ms": statistics.median(rest) * 1000,
                "push_kb": statistics.median(push_bytes) / 1024,
                "extra_pushes": extra_pushes,
                "nacks": sum(ts.nacks for ts in st.types.values()),
                "envoy_rss_mb": _proc_rss_mb(envoy.pid),
                "rss_mb": peak_rss_mb(),
                "gc_median_ms": statistics.median(gc_ms),
                "gc_max_ms": max(gc_ms),
                "gc_full_changes": gc_full,
                "raw_ms": [round(x, 3) for x in ms],
                "raw_gc_ms": [round(x, 3) for x in gc_ms],
                "raw_controller_ms": [round(x * 1000, 3) for x in controller],
                "raw_server_ms": [round(x * 1000, 3) for x in servers],
                "raw_envoy_ms": [round(x * 1000, 3) for x in rest],
            })
        finally:
            if envoy is not None:
                out["envoy_log"] = _log_problems(envoy.log_path)  # before stopping: not its shutdown
                await envoy.stop()
            await server.stop(grace=1.0)
    return out


def _log_problems(path: Path, limit: int = 5) -> list[str]:
    """Envoy's warning/error lines (the last few), for the report."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    benign = ("no configured limit to the number of allowed active downstream connections",)
    bad = [line for line in lines
           if any(f"][{lvl}][" in line for lvl in ("warning", "error", "critical"))
           and not any(b in line for b in benign)]
    return bad[-limit:]


def worker(n: int, e: int, protocol: str, changes: int, warmup: int, log_level: str, gc_freeze: bool,
           policies: str | None = None) -> dict:
    """Run one case with SIGTERM/SIGINT cancelling it, so Envoy is always stopped."""

    async def main() -> dict:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        return await run_case(n, e, protocol, changes, warmup, log_level, gc_freeze, policies)

    return asyncio.run(main())


# --------------------------------------------------------------------------------------------
# Driver.


def spawn(n: int, e: int, protocol: str, changes: int, warmup: int, log_level: str, gc_freeze: bool,
          policies: str | None = None) -> dict:
    """One case in a fresh interpreter, in its own process group (with its Envoy): on timeout or
    interrupt the group gets SIGTERM, then SIGKILL, so no Envoy outlives the benchmark."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", protocol, "--sizes", str(n),
           "--endpoints", str(e), "--changes", str(changes), "--warmup", str(warmup),
           "--envoy-log-level", log_level] + (["--gc-freeze"] if gc_freeze else []) + \
        (["--policies", policies] if policies else [])
    return run_worker(cmd, f"N={n} {protocol}")



def _sizes(text: str) -> list[int]:
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not sizes or any(not 0 < s <= MAX_N for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be between 1 and {MAX_N}")
    return sizes


def _protocols(text: str) -> list[str]:
    out = [s.strip().lower() for s in text.split(",") if s.strip()]
    if not out or any(p not in PROTOCOLS for p in out):
        raise argparse.ArgumentTypeError(f"protocols are {', '.join(PROTOCOLS)}")
    return out


def _modes(text: str) -> list[str]:
    from policies import KINDS
    modes = [m.strip() for m in text.split(",") if m.strip()]
    if not modes or any(m not in ("none", *KINDS) for m in modes):
        raise argparse.ArgumentTypeError(f"modes are none and {', '.join(KINDS)}, comma-separated")
    return modes


def compare(args: argparse.Namespace) -> int:
    """--compare-policies: per N and protocol, each mode's cases taken in turn, changes pooled."""
    print("| N | protocol | policies | change → ACK median ms | p99 ms | controller median ms | ratio |")
    print("|---:|:---|:---|---:|---:|---:|---:|")
    for n in args.sizes:
        for protocol in args.protocols:
            pooled: dict[str, dict[str, list[float]]] = {m: {"ms": [], "controller": []} for m in args.compare_policies}
            for k in range(args.rounds):
                for mode in args.compare_policies:
                    r = spawn(n, args.endpoints, protocol, args.changes, args.warmup, args.envoy_log_level,
                              args.gc_freeze, None if mode == "none" else mode)
                    pooled[mode]["ms"] += r["raw_ms"]
                    pooled[mode]["controller"] += r["raw_controller_ms"]
                    print(f"  N={n} {protocol} {mode} round {k}: median {r['median_ms']:.2f} ms", file=sys.stderr,
                          flush=True)
            first = statistics.median(pooled[args.compare_policies[0]]["ms"])
            for mode, got in pooled.items():
                median = statistics.median(got["ms"])
                print(f"| {n:,} | {'Delta' if protocol == 'delta' else 'SotW'} | {mode} | {median:.2f} | "
                      f"{nearest_rank(got['ms'], 0.99):.2f} | {statistics.median(got['controller']):.2f} | "
                      f"{median / first:.2f} |")
    print(f"\n{args.rounds} rounds × {args.changes} changes per mode, the modes taken in turn; E = {args.endpoints}.")
    return 0


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=_sizes, default=[100, 1000, 10000],
                   help="comma-separated N (default 100,1000,10000)")
    p.add_argument("--changes", type=int, default=100, help="measured changes per case, C (default 100)")
    p.add_argument("--warmup", type=int, default=5, help="changes before measuring, not counted (default 5)")
    p.add_argument("--protocols", type=_protocols, default=list(PROTOCOLS), help="delta,sotw (default both)")
    p.add_argument("--endpoints", type=int, default=10, help="endpoints per Service, E (default 10)")
    p.add_argument("--envoy-log-level", default="warning", help="Envoy's --log-level (default warning)")
    p.add_argument("--gc-freeze", action="store_true",
                   help="what-if: gc.freeze() once Envoy is ready, so full collections skip the loaded config")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    p.add_argument("--json", action="store_true", help="print every case's raw results as JSON lines too")
    from policies import add_argument as add_policies_argument
    add_policies_argument(p)
    p.add_argument("--compare-policies", type=_modes, default=None,
                   help="modes to compare in one run, e.g. none,routes,all (with --rounds)")
    p.add_argument("--rounds", type=int, default=3, help="cases per mode with --compare-policies (default 3)")
    p.add_argument("--worker", choices=PROTOCOLS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 0 < args.rounds <= MAX_ROUNDS:
        p.error(f"--rounds must be between 1 and {MAX_ROUNDS}")
    if not 0 < args.changes <= MAX_CHANGES:
        p.error(f"--changes must be between 1 and {MAX_CHANGES}")
    if not 0 <= args.warmup <= MAX_WARMUP:
        p.error(f"--warmup must be between 0 and {MAX_WARMUP}")
    if not 0 < args.endpoints <= translate.MAX_E:
        p.error(f"--endpoints must be between 1 and {translate.MAX_E}")
    if max(args.sizes) * args.endpoints + args.warmup + args.changes >= (1 << 24) - 2:
        p.error("too many addresses for 127.0.0.0/8")
    require_upb()

    if args.worker:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        print(json.dumps(worker(args.sizes[0], args.endpoints, args.worker, args.changes, args.warmup,
                                args.envoy_log_level, args.gc_freeze, args.policies)))
        return 0

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through spawn(), which stops the worker and its Envoy

    signal.signal(signal.SIGTERM, terminated)
    if args.compare_policies:
        return compare(args)
    rows = []
    for n in args.sizes:
        for protocol in args.protocols:
            r = spawn(n, args.endpoints, protocol, args.changes, args.warmup, args.envoy_log_level, args.gc_freeze,
                      args.policies)
            rows.append(r)
            extra = f", extra pushes {r['extra_pushes']}" if r["extra_pushes"] else ""
            for line in r.get("envoy_log", []):
                print(f"  Envoy log: {line}", file=sys.stderr)
            print(f"N={n} {protocol}: ready {r['ready_s']:.2f} s (load {r['load_s']:.2f} s); "
                  f"change→ACK median {r['median_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms; "
                  f"controller {r['controller_median_ms']:.2f} ms, server {_fmt(r['server_median_ms'], 2)} ms, "
                  f"Envoy+transport {_fmt(r['envoy_median_ms'], 2)} ms; EDS push {r['push_kb']:.1f} KiB; "
                  f"GC median {r['gc_median_ms']:.2f} ms, max {r['gc_max_ms']:.1f} ms (full collections in "
                  f"{r['gc_full_changes']} changes); Envoy RSS {_fmt(r['envoy_rss_mb'], 0)} MB, "
                  f"meshgate peak RSS {r['rss_mb']:.0f} MB{extra}",
                  file=sys.stderr, flush=True)
            if args.json:
                print(json.dumps(r), file=sys.stderr, flush=True)

    header = ["N", "protocol", "ready s", "median ms", "p99 ms", "max ms",
              "controller ms", "server ms", "Envoy+transport ms", "GC max ms", "EDS push KiB"]
    table = [[f"{r['n']:,}", "Delta" if r["protocol"] == "delta" else "SotW", f"{r['ready_s']:.1f}",
              f"{r['median_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}",
              f"{r['controller_median_ms']:.2f}", _fmt(r["server_median_ms"], 2), _fmt(r["envoy_median_ms"], 1),
              f"{r['gc_max_ms']:.1f}", f"{r['push_kb']:.1f}"] for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(":---" if h == "protocol" else "---:" for h in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
        freeze = "; with gc.freeze() once ready" if args.gc_freeze else ""
        print(f"\n{args.changes} changes per row after {args.warmup} warm-up; E = {args.endpoints}{freeze}; "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
