"""Start-up benchmark: `meshgate serve` on a directory, from process start to the first CDS
response an ADS client receives (ARCHITECTURE §9: within 5 s and 300 MB peak at 10,000 Services
× 10 endpoints + 10,000 HTTPRoutes).

Input: bench/translate.py's objects (one Gateway, N Services × E endpoints, N HTTPRoutes),
written (not timed) as a directory of files of `--per-file` Services each (their Services,
EndpointSlices and HTTPRoutes), in one of two formats:

- yaml: multi-document YAML files, as bench/translate.py writes them;
- json: one `kind: List` JSON file per group (pretty-printed with indent 2, as `kubectl get -o
  json` writes them).

For each format, three measurements in fresh processes:

1. first CDS: `meshgate serve DIR --xds 127.0.0.1:P` as a subprocess; a gRPC client opens a
   State-of-the-World ADS stream (waiting for the server to come up) and asks for CDS as the
   Gateway's Envoy would. The time is from just before the process is spawned to the CDS
   response's arrival; the server's CPU time (user + system, interpreter start included) and
   peak RSS (VmHWM) are read right then.
2. phases (CPU seconds), in one worker process, one after the other on the same directory: read + parse
   (every file read and parsed into documents, nothing validated), load (`load_paths`: read,
   parse, validate and type; validate is load minus read + parse), store (`Store.from_load`),
   translate (`translate_store`) and serialize (`SerializeToString(deterministic=True)` of every
   resource).

    python bench/startup.py [--sizes 10000] [--endpoints 10] [--formats yaml,json] [--markdown]
    python bench/startup.py --src /tmp/base/src     # the same against another checkout's src/
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

import translate
from push import free_port
from workers import require_upb, run_worker

GATEWAY_KEY = f"{translate.NAMESPACE}/{translate.GATEWAY}"
FORMATS = ("yaml", "json")
MAX_N = 100_000
FIRST_CDS_TIMEOUT_S = 600.0
STOP_TIMEOUT_S = 20.0
RECONNECT_MS = 20
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"


# --------------------------------------------------------------------------------------------
# Input.


def _groups(n: int, e: int, per_file: int) -> tuple[str, list[str]]:
    """The Gateway's document, and the YAML text of each group of `per_file` Services."""
    docs = translate.generate_yaml(n, e).split("\n---\n")
    gateway, rest = docs[0] + "\n", docs[1:]
    assert len(rest) == 3 * n, "bench/translate.py writes three documents per Service"
    step = 3 * per_file
    return gateway, ["\n---\n".join(rest[i:i + step]) + "\n" for i in range(0, len(rest), step)]


def write_config(directory: Path, n: int, e: int, fmt: str, per_file: int) -> int:
    """Write the input into `directory` in format `fmt`; the number of files written."""
    import yaml

    gateway, groups = _groups(n, e, per_file)
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "yaml":
        (directory / "gateway.yaml").write_text(gateway)
        for k, text in enumerate(groups):
            (directory / f"services-{k:05d}.yaml").write_text(text)
    else:
        (directory / "gateway.json").write_text(json.dumps(yaml.safe_load(gateway), indent=2) + "\n")
        for k, text in enumerate(groups):
            items = list(yaml.safe_load_all(text))
            doc = {"apiVersion": "v1", "kind": "List", "items": items}
            (directory / f"services-{k:05d}.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 1 + len(groups)


def _env(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    return env


# --------------------------------------------------------------------------------------------
# 1. First CDS from a `meshgate serve` subprocess.


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) that process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm_hwm_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    m = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert m, "no VmHWM in /proc/PID/status"
    return int(m.group(1)) / 1024


def first_cds(config: Path, src: str | None, n: int) -> dict:
    """Spawn `meshgate serve` on `config`; seconds to the first CDS response, and peak RSS then."""
    import grpc
    from envoy.config.core.v3 import base_pb2
    from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

    port, debug_port = free_port(), free_port()
    cmd = [sys.executable, "-c", "from meshgate.cli import main; main()", "serve", str(config),
           "--xds", f"127.0.0.1:{port}", "--debug-port", str(debug_port), "--log-level", "warning"]
    node = base_pb2.Node(id="bench-startup", cluster=GATEWAY_KEY)
    node.metadata.fields["meshgate.io/gateway"].string_value = GATEWAY_KEY
    request = discovery_pb2.DiscoveryRequest(node=node, type_url=CDS)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(src))
    try:
        # Reconnect every 20 ms while the server is not up yet (gRPC's default backoff starts at 1 s).
        options = [("grpc.initial_reconnect_backoff_ms", RECONNECT_MS), ("grpc.min_reconnect_backoff_ms", RECONNECT_MS),
                   ("grpc.max_reconnect_backoff_ms", RECONNECT_MS)]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
            # wait_for_ready: the call waits (bounded by its timeout) for the server to listen.
            stream = stub.StreamAggregatedResources(iter([request]), wait_for_ready=True,
                                                    timeout=FIRST_CDS_TIMEOUT_S)
            response = next(stream)
            t1 = time.perf_counter()
            peak = _vm_hwm_mb(proc.pid)
            cpu = _cpu_s(proc.pid)
            stream.cancel()
        if response.type_url != CDS or len(response.resources) != n:
            raise SystemExit(f"expected {n} clusters in the first CDS response, got {len(response.resources)}")
        return {"first_cds_s": t1 - t0, "first_cds_cpu_s": cpu, "peak_rss_mb": peak}
    finally:
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        if stderr and "Traceback" in stderr:
            sys.stderr.write(stderr)


# --------------------------------------------------------------------------------------------
# 2. The phases, in one process.


def _parse_only(path: Path) -> int:
    """Read and parse one file into documents (nothing validated); how many documents."""
    from meshgate.resources.yaml_source import iter_documents

    text = path.read_bytes().decode("utf-8")
    if path.suffix == ".json":
        try:
            from meshgate.resources.json_source import parse_json
        except ImportError:  # a checkout without the JSON fast path reads JSON as YAML
            pass
        else:
            parsed = parse_json(text)
            if parsed is not None:
                return 1
    return sum(1 for _ in iter_documents(text))


def phases(config: str, n: int, e: int) -> dict:
    """CPU seconds of each start-up phase on the files of `config` (CPU, not wall-clock: the
    figures hold on a busy machine), and the peak RSS of this process."""
    from meshgate.collector import collector_paused
    from meshgate.pipeline import translate_store
    from meshgate.resources.loader import find_files, load_paths
    from meshgate.store import Store

    require_upb()
    out: dict[str, Any] = {}
    t0 = time.process_time()
    files, _ = find_files([config])
    with collector_paused():  # as load_paths runs
        docs = sum(_parse_only(p) for p in files)
    t1 = time.process_time()
    result = load_paths([config], created=translate.CREATED)
    t2 = time.process_time()
    errors = [err for err in result.errors if err.severity == "error"]
    assert not errors, f"benchmark input has errors: {errors[:3]}"
    store, duplicates = Store.from_load(result)
    assert not duplicates, duplicates[:3]
    del result
    t3 = time.process_time()
    translation = translate_store(store, translate.NOW)
    t4 = time.process_time()
    translate.serialize_translation(translation)
    t5 = time.process_time()
    translate.check_translation(translation, n, e)
    out.update(documents=docs, parse_s=t1 - t0, load_s=t2 - t1, validate_s=max(0.0, (t2 - t1) - (t1 - t0)),
               store_s=t3 - t2, translate_s=t4 - t3, serialize_s=t5 - t4, rss_mb=translate.peak_rss_mb())
    return out


# --------------------------------------------------------------------------------------------
# Driver.


def run(n: int, e: int, fmt: str, per_file: int, src: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="meshgate-bench-startup-") as tmp:
        config = Path(tmp) / "config"
        files = write_config(config, n, e, fmt, per_file)
        size = sum(p.stat().st_size for p in config.iterdir())
        row: dict[str, Any] = {"n": n, "e": e, "format": fmt, "files": files, "mb": size / 1e6}
        row.update(first_cds(config, src, n))
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(config), str(n), str(e)]
        env_src = _env(src)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env_src)
        try:
            row.update(run_worker(cmd, f"phases {fmt} N={n}"))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return row


COLUMNS = [("N", "n", "{}"), ("format", "format", "{}"), ("input MB", "mb", "{:.1f}"),
           ("first CDS s", "first_cds_s", "{:.2f}"), ("server CPU s", "first_cds_cpu_s", "{:.2f}"),
           ("peak RSS MB", "peak_rss_mb", "{:.0f}"),
           ("read+parse s", "parse_s", "{:.2f}"), ("validate s", "validate_s", "{:.2f}"),
           ("store s", "store_s", "{:.2f}"), ("translate s", "translate_s", "{:.2f}"),
           ("serialize s", "serialize_s", "{:.2f}")]


def table(rows: list[dict], markdown: bool) -> str:
    head = [c[0] for c in COLUMNS]
    body = [[fmt.format(r[key]) for _, key, fmt in COLUMNS] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    return "\n".join("  ".join(x.rjust(w) for x, w in zip(line, widths)) for line in [head, *body])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        config, n, e = argv[1], int(argv[2]), int(argv[3])
        print(json.dumps(phases(config, n, e)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000", help="values of N, comma-separated")
    ap.add_argument("--endpoints", type=int, default=10, help="endpoints per Service")
    ap.add_argument("--formats", default="yaml,json", help="yaml, json or both")
    ap.add_argument("--per-file", type=int, default=100, help="Services per file")
    ap.add_argument("--src", help="run meshgate from this src/ directory (PYTHONPATH) instead of the installed one")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    if any(not 0 < n <= MAX_N for n in sizes) or any(f not in FORMATS for f in formats):
        ap.error(f"sizes must be in 1..{MAX_N} and formats among {', '.join(FORMATS)}")
    rows = []
    for n in sizes:
        for fmt in formats:
            rows.append(run(n, args.endpoints, fmt, args.per_file, args.src))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(table(rows, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
