"""Envoy's memory for meshgate's config, with and without xDS metadata (issue 14 §7).

The input is bench/translate.py's (one Gateway, N Services × E endpoints, N HTTPRoutes). For
each N it is translated twice in this process, with meshgate's xDS metadata and without it
(translate.py's `metadata_disabled`), and each translation is handed to a real Envoy as a
static bootstrap (`meshgate.envoy.static_config`: the same Listener, RouteConfiguration,
Clusters and ClusterLoadAssignments, inline instead of over xDS; the listener moved to a free
loopback port). Envoy's resident memory is read from /proc once its admin `/ready` answers 200
and two seconds have passed.

With --pieces, two more translations per N have part of their metadata cleared afterwards: the
LbEndpoints' (their Pods), and everything but the Clusters' and LocalityLbEndpoints' (what the
seed asks for): what each kind of piece costs.

    python bench/envoy_rss.py [--sizes 1000,10000] [--endpoints 10] [--concurrency 2] [--pieces] [--markdown]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from translate import NOW, generate_yaml, load_store, metadata_disabled, print_table  # bench/translate.py

READY_TIMEOUT_S = 600  # Envoy loading the largest config on a busy 2-core machine
SETTLE_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of `pid`, in MiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", text).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]


VARIANTS = ("with", "without", "without LbEndpoint's", "Cluster and locality only")


def clear_metadata(snap: Any, variant: str) -> None:
    """Clear the metadata of the pieces a variant leaves out."""
    if variant in ("with", "without"):
        return
    for cla in snap.endpoints:
        for lle in cla.endpoints:
            for lb in lle.lb_endpoints:
                lb.ClearField("metadata")
    if variant == "Cluster and locality only":
        for rc in snap.routes:
            for vh in rc.virtual_hosts:
                vh.ClearField("metadata")
                for r in vh.routes:
                    r.ClearField("metadata")
        for lst in snap.listeners:
            lst.ClearField("metadata")
            for chain in lst.filter_chains:
                chain.ClearField("metadata")


def bootstrap_file(n: int, e: int, variant: str, workdir: Path) -> tuple[Path, int, int]:
    """The static bootstrap of the benchmark input, written as binary proto; (path, config
    bytes of the served resources, admin port)."""
    from meshgate.envoy.static_config import static_bootstrap
    from meshgate.pipeline import translate_store

    store = load_store(generate_yaml(n, e))
    with contextlib.nullcontext() if variant != "without" else metadata_disabled():
        tr = translate_store(store, NOW)
    (snap,) = tr.snapshots
    clear_metadata(snap, variant)
    size = sum(m.ByteSize() for group in (snap.listeners, snap.routes, snap.clusters, snap.endpoints) for m in group)
    admin = free_port()
    boot = static_bootstrap(snap, admin_port=admin)
    for lst in boot.static_resources.listeners:
        lst.address.socket_address.address = "127.0.0.1"
        lst.address.socket_address.port_value = free_port()
    path = workdir / f"boot-{n}-{VARIANTS.index(variant)}.pb"
    path.write_bytes(boot.SerializeToString())
    del tr, store, boot, snap
    gc.collect()
    return path, size, admin


def envoy_memory(envoy: str, path: Path, admin: int, concurrency: int) -> dict[str, float]:
    """Start Envoy on a bootstrap, wait until ready, read its memory, stop it."""
    proc = subprocess.Popen([envoy, "-c", str(path), "--log-level", "error", "--disable-hot-restart",
                             "--concurrency", str(concurrency)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        start = time.monotonic()
        deadline = start + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"envoy exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            if time.monotonic() > deadline:
                raise SystemExit(f"envoy not ready within {READY_TIMEOUT_S} s")
            with contextlib.suppress(urllib.error.URLError, OSError), \
                    urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=2) as r:
                if r.status == 200:
                    break
            time.sleep(0.2)
        ready_s = time.monotonic() - start
        time.sleep(SETTLE_S)
        return {"ready_s": ready_s, **status_mib(proc.pid)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    from meshgate.envoy.binary import find_envoy

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000", help="comma-separated N (default 1000,10000)")
    p.add_argument("--endpoints", type=int, default=10, help="endpoints per Service (default 10)")
    p.add_argument("--concurrency", type=int, default=2, help="Envoy worker threads (default 2)")
    p.add_argument("--pieces", action="store_true", help="also with part of the metadata cleared (see above)")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not sizes or any(not 0 < n <= 100_000 for n in sizes) or not 0 < args.endpoints <= 1000:
        p.error("sizes between 1 and 100,000; endpoints between 1 and 1,000")
    envoy = find_envoy()
    if envoy is None:
        raise SystemExit("no envoy binary (PATH or ENVOY_BINARY)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="envoy-rss-") as tmp:
        for n in sizes:
            measured = {}
            for variant in VARIANTS if args.pieces else VARIANTS[:2]:
                path, size, admin = bootstrap_file(n, args.endpoints, variant, Path(tmp))
                mem = envoy_memory(envoy, path, admin, args.concurrency)
                path.unlink()
                measured[variant] = (size, mem)
                print(f"N={n} metadata {variant}: config {size} bytes, ready {mem['ready_s']:.1f} s, "
                      f"RSS {mem['VmRSS']:.0f} MiB, peak {mem['VmHWM']:.0f} MiB", file=sys.stderr, flush=True)
            base_size, base = measured["without"]
            for variant, (size, mem) in measured.items():
                rows.append([f"{n:,}", str(args.endpoints), variant, f"{size / 2**20:.2f}", f"{size / base_size:.2f}×",
                             f"{mem['VmRSS']:.0f}", f"{mem['VmRSS'] / base['VmRSS']:.2f}×", f"{mem['ready_s']:.1f}"])
    print_table(["N", "E", "metadata", "config MiB", "÷ without", "Envoy RSS MiB", "÷ without", "ready s"],
                rows, args.markdown)
    if args.markdown:
        print(f"\nEnvoy --concurrency {args.concurrency}, static bootstrap; RSS {SETTLE_S:.0f} s after /ready; "
              f"{os.cpu_count()} CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
