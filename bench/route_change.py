"""Route change benchmark: one HTTPRoute edit → Envoy's RDS ACK, with the route table whole
(one RouteConfiguration, as before xds/scopes.py) and split per hostname (SRDS), against a real
Envoy (issue 14 §6).

Input: bench/translate.py's generator with E = 1 (one Gateway, N Services, N HTTPRoutes), the
Gateway's HTTP listener on a free 127.0.0.1 port, in one of two layouts:

- `hosts`: every HTTPRoute on its own hostname (svc-i.example.com), as generated;
- `one-host`: every HTTPRoute on the one hostname bench.example.com, each with its own path
  prefix (/api-i): the worst case, one virtual host of N routes.

For each (N, layout, mode, protocol) a fresh subprocess loads the input into a ControlPlane, serves
it over ADS and starts one managed Envoy. Once Envoy has ACKed everything, it makes C changes, one
after the other, each the RequestHeaderModifier value of one random HTTPRoute:

    t0; control.apply(ChangeSet(upserts=[the edited HTTPRoute])); await cache.notify()
    the RDS response is built (t_push, its bytes counted); poll until Envoy ACKs it (t_ack)

and reports the medians of t_ack - t_push (Envoy's share: transport, parse, route table rebuild,
ACK back), of t_ack - t0 (the whole change, meshgate's full translation included) and of the RDS
bytes sent. `whole` is the translation with the split turned off (the RouteConfiguration is then
byte for byte the one main sends); `split` is this branch's. Afterwards Envoy's /config_dump must
hold the last edit.

    python bench/route_change.py [--sizes 100,1000,5000] [--layouts hosts,one-host]
        [--modes whole,split] [--protocols delta,sotw] [--changes 20] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
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

import push
import translate
from workers import require_upb, run_worker

LAYOUTS = ("hosts", "one-host")
MODES = ("whole", "split")
PROTOCOLS = ("delta", "sotw")
ONE_HOST = "bench.example.com"
MAX_N = 20_000
MAX_CHANGES = 1_000
WARMUP = 2
ACK_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 300.0
GAP_S = 0.05
SEED = 20261204


def bench_yaml(n: int, port: int, layout: str) -> str:
    """push.bench_yaml(n, 1, port), with every route on ONE_HOST for `one-host`."""
    text = push.bench_yaml(n, 1, port)
    if layout == "one-host":
        text, hosts = re.subn(r'hostnames: \["svc-\d+\.example\.com"\]', f'hostnames: ["{ONE_HOST}"]', text)
        counter = iter(range(n))
        text, paths = re.subn(r"value: /api\}", lambda m: f"value: /api-{next(counter)}}}", text)
        assert hosts == n and paths == n, "bench/translate.py's HTTPRoutes changed: update bench_yaml"
    return text


class Measured:
    """Wraps the ADS service's response builders: the time and bytes of each RDS response."""

    def __init__(self, service: Any, route_type: str) -> None:
        self.pushes: list[tuple[float, int]] = []  # (perf_counter when built, bytes)
        for name in ("_sotw_response", "_delta_response"):
            inner = getattr(service, name)

            def wrapped(st: Any, type_url: str, ts: Any, *args: Any, _inner: Any = inner, **kw: Any) -> Any:
                resp = _inner(st, type_url, ts, *args, **kw)
                if resp is not None and type_url == route_type:
                    self.pushes.append((time.perf_counter(), resp.ByteSize()))
                return resp

            setattr(service, name, wrapped)


async def run_case(n: int, layout: str, mode: str, protocol: str, changes: int, log_level: str) -> dict:
    from meshgate.envoy.bootstrap import ads_bootstrap
    from meshgate.envoy.process import ManagedEnvoy
    from meshgate.providers.files import ChangeSet, FileProvider
    from meshgate.resources.loader import InputLimits, load_text
    from meshgate.runtime.controller import ControlPlane
    from meshgate.runtime.metrics import Metrics
    from meshgate.xds import snapshot
    from meshgate.xds.cache import SnapshotCache
    from meshgate.xds.resources import ROUTE, SCOPED_ROUTE
    from meshgate.xds.server import AggregatedDiscoveryService, start_server
    from meshgate.xds.streams import StreamRegistry

    if mode == "whole":
        # What-if for "before": no configuration is split (one RouteConfiguration per listener).
        snapshot.split_configs = lambda configs: frozenset()  # type: ignore[assignment]
    require_upb()
    out: dict[str, Any] = {"n": n, "layout": layout, "mode": mode, "protocol": protocol}
    limits = InputLimits(max_file_bytes=1 << 31, max_documents=10_000_000)
    with tempfile.TemporaryDirectory(prefix="meshgate-bench-routes-") as tmp:
        tmpdir = Path(tmp)
        cfgdir = tmpdir / "config"
        cfgdir.mkdir()
        port = push.free_port()
        text = bench_yaml(n, port, layout)
        (cfgdir / "bench.yaml").write_text(text)
        routes = {m.group(1): m.group(0) for m in re.finditer(
            r"apiVersion: gateway\.networking\.k8s\.io/v1\nkind: HTTPRoute\nmetadata: \{name: (route-\d+),.*?(?=---\n|\Z)",
            text, re.DOTALL)}
        if len(routes) != n:
            raise push.BenchError(f"found {len(routes)} HTTPRoutes in the input, expected {n}")

        cache = SnapshotCache()
        metrics = Metrics()
        registry = StreamRegistry()
        control = ControlPlane(FileProvider([cfgdir], limits), cache, metrics)
        control.load()
        entry = cache.entry(push.GATEWAY_KEY)
        out["route_configs"] = len(entry.resources[ROUTE])
        out["scopes"] = len(entry.resources[SCOPED_ROUTE])
        service = AggregatedDiscoveryService(cache, registry, push.Recorder(metrics))
        measured = Measured(service, ROUTE)
        server, xds_port = await start_server(service, push.LISTEN_ADDRESS, 0)
        envoy = None
        try:
            boot = ads_bootstrap(push.GATEWAY_KEY, push.LISTEN_ADDRESS, xds_port, delta=protocol == "delta")
            envoy = ManagedEnvoy(push.GATEWAY_KEY, boot, tmpdir, log_level=log_level)
            t = time.perf_counter()
            await envoy.start(timeout=READY_TIMEOUT_S)
            await push._wait_ready(registry, n, READY_TIMEOUT_S)
            out["ready_s"] = time.perf_counter() - t
            st = push._one_stream(registry)
            rds = st.types[ROUTE]
            rng = random.Random(SEED)
            envoy_ms: list[float] = []
            total_ms: list[float] = []
            sent: list[int] = []
            last = ""
            for k in range(WARMUP + changes):
                name = f"route-{rng.randrange(n)}"
                last = f"edit-{k}"
                doc = routes[name].replace("value: route-", f"value: {last}-route-", 1)
                loaded = load_text(doc, "change.yaml", translate.CREATED)
                if len(loaded.objects) != 1 or loaded.errors:
                    raise push.BenchError(f"the edited {name} did not load: {loaded.errors[:2]}")
                old_nonce, old_nacks = rds.nonce, rds.nacks
                measured.pushes.clear()
                t0 = time.perf_counter()
                control.apply(ChangeSet(upserts=loaded.objects))
                await cache.notify()
                t_ack = await push._wait_ack(st, rds, old_nonce, old_nacks, ACK_TIMEOUT_S)
                if push._one_stream(registry) is not st:
                    raise push.BenchError(f"change {k}: Envoy reconnected")
                if len(measured.pushes) != 1:
                    raise push.BenchError(f"change {k}: {len(measured.pushes)} RDS responses, expected 1")
                t_push, size = measured.pushes[0]
                if k >= WARMUP:
                    envoy_ms.append((t_ack - t_push) * 1000)
                    total_ms.append((t_ack - t0) * 1000)
                    sent.append(size)
                await asyncio.sleep(GAP_S)
            dump = await envoy.admin_get("/config_dump?resource=dynamic_route_configs", timeout=60.0)
            if f"{last}-route-" not in dump:
                raise push.BenchError(f"Envoy ACKed, but its config_dump lacks the last edit {last!r}")
            out.update({
                "changes": len(envoy_ms),
                "envoy_median_ms": statistics.median(envoy_ms),
                "envoy_p90_ms": push.nearest_rank(envoy_ms, 0.9),
                "total_median_ms": statistics.median(total_ms),
                "rds_bytes": statistics.median(sent),
                "envoy_rss_mb": push._proc_rss_mb(envoy.pid),
                "nacks": sum(ts.nacks for ts in st.types.values()),
            })
        finally:
            if envoy is not None:
                out["envoy_log"] = push._log_problems(envoy.log_path)
                await envoy.stop()
            await server.stop(grace=1.0)
    return out


def worker(n: int, layout: str, mode: str, protocol: str, changes: int, log_level: str) -> dict:
    """Run one case with SIGTERM/SIGINT cancelling it, so Envoy is always stopped."""

    async def main() -> dict:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        return await run_case(n, layout, mode, protocol, changes, log_level)

    return asyncio.run(main())


def _list(choices: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        out = [s.strip().lower() for s in text.split(",") if s.strip()]
        if not out or any(s not in choices for s in out):
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return out
    return parse


def _sizes(text: str) -> list[int]:
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not sizes or any(not 0 < s <= MAX_N for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be between 1 and {MAX_N}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--sizes", type=_sizes, default=[100, 1000, 5000], help="comma-separated N (default 100,1000,5000)")
    p.add_argument("--layouts", type=_list(LAYOUTS), default=list(LAYOUTS), help="hosts,one-host (default both)")
    p.add_argument("--modes", type=_list(MODES), default=list(MODES), help="whole,split (default both)")
    p.add_argument("--protocols", type=_list(PROTOCOLS), default=list(PROTOCOLS), help="delta,sotw (default both)")
    p.add_argument("--changes", type=int, default=20, help="measured changes per case (default 20)")
    p.add_argument("--envoy-log-level", default="warning", help="Envoy's --log-level (default warning)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 0 < args.changes <= MAX_CHANGES:
        p.error(f"--changes must be between 1 and {MAX_CHANGES}")

    if args.worker:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        layout, mode, protocol = args.worker.split(":")
        print(json.dumps(worker(args.sizes[0], layout, mode, protocol, args.changes, args.envoy_log_level)))
        return 0
    require_upb()

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through run_worker, which stops the worker and its Envoy

    signal.signal(signal.SIGTERM, terminated)
    rows = []
    for layout in args.layouts:
        for n in args.sizes:
            for protocol in args.protocols:
                for mode in args.modes:
                    cmd = [sys.executable, os.path.abspath(__file__), "--worker", f"{layout}:{mode}:{protocol}",
                           "--sizes", str(n), "--changes", str(args.changes), "--envoy-log-level", args.envoy_log_level]
                    r = run_worker(cmd, f"N={n} {layout} {mode} {protocol}")
                    rows.append(r)
                    for line in r.get("envoy_log", []):
                        print(f"  Envoy log: {line}", file=sys.stderr)
                    print(f"N={n} {layout} {mode} {protocol}: {r['route_configs']} RouteConfiguration(s), "
                          f"{r['scopes']} scope(s); Envoy's share median {r['envoy_median_ms']:.1f} ms "
                          f"(p90 {r['envoy_p90_ms']:.1f}), change→ACK {r['total_median_ms']:.0f} ms, "
                          f"RDS sent {r['rds_bytes'] / 1024:.1f} KiB; Envoy RSS {push._fmt(r['envoy_rss_mb'], 0)} MB",
                          file=sys.stderr, flush=True)

    header = ["layout", "N", "protocol", "mode", "RDS sent KiB", "Envoy ACK ms (median)", "p90 ms",
              "change→ACK ms", "Envoy RSS MB"]
    table = [[r["layout"], f"{r['n']:,}", "Delta" if r["protocol"] == "delta" else "SotW", r["mode"],
              f"{r['rds_bytes'] / 1024:,.1f}", f"{r['envoy_median_ms']:.1f}", f"{r['envoy_p90_ms']:.1f}",
              f"{r['total_median_ms']:.0f}", push._fmt(r["envoy_rss_mb"], 0)] for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(":---" if h in ("layout", "protocol", "mode") else "---:" for h in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
        print(f"\n{args.changes} changes per row after {WARMUP} warm-up; Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs.")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for row in table:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
