"""What one big input file costs a running `meshgate serve`.

Starts `meshgate serve` on a directory holding one Gateway, then writes (by rename) a file of
SIZE MB of small Service documents ending with an HTTPRoute `marker`, and reports:

- how long until the file's effect shows in /debug/status (its marker route, or an error
  naming it: refused by an input limit);
- the longest /metrics answer meanwhile (polled every 20 ms from another thread): how long the
  event loop was blocked at once;
- the process's RSS before, and its RSS and peak RSS (VmHWM) 3 s after.

    python bench/big_file.py [--size 50] [-- SERVE-OPTIONS...]
    python bench/big_file.py --size 50 -- --max-file-bytes 100000000 --max-documents 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: big}
spec:
  gatewayClassName: meshgate
  listeners: [{name: http, port: 8080, protocol: HTTP}]
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: big}}\nspec:\n  ports: [{{name: http, port: 80}}]\n---\n"
MARKER = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: marker, namespace: big}
spec:
  parentRefs: [{name: gw}]
"""


def big_text(megabytes: int) -> tuple[str, int]:
    """About `megabytes` MB of Service documents, then the marker route; and how many Services."""
    parts, total = [], 0
    while total < megabytes * 1_000_000:
        parts.append(SERVICE.format(i=len(parts)))
        total += len(parts[-1])
    return "".join(parts) + MARKER, len(parts)


def rss_mib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid`, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) // 1024 for k in ("VmRSS", "VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=50, help="MB of documents (default 50)")
    parser.add_argument("serve_options", nargs="*", help="passed to meshgate serve (after --)")
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "meshgate")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp)
        (config / "gw.yaml").write_text(GATEWAY)
        text, services = big_text(args.size)
        proc = subprocess.Popen([exe, "serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0",
                                 *args.serve_options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            port = None
            for line in proc.stdout:
                m = re.search(r"debug on http://127\.0\.0\.1:(\d+)/", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port is not None, "meshgate serve did not start"
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            time.sleep(1.5)  # past the watcher's first wake-up
            print(f"{services} Services, {len(text) / 1e6:.1f} MB; RSS before: {rss_mib(proc.pid)} MiB")
            worst, stop = [0.0], threading.Event()

            def poll() -> None:
                while not stop.is_set():
                    t0 = time.monotonic()
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=600).read()
                    worst[0] = max(worst[0], time.monotonic() - t0)
                    time.sleep(0.02)

            poller = threading.Thread(target=poll)
            poller.start()
            t0 = time.monotonic()
            (config / ".big.tmp").write_text(text)
            os.rename(config / ".big.tmp", config / "big.yaml")
            del text
            while True:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/status", timeout=600) as resp:
                    status = json.loads(resp.read())
                errors = [e["message"] for e in status["errors"] if e["file"].endswith("big.yaml")]
                if errors or any(s["metadata"]["name"] == "marker" for s in status["status"]):
                    break
                time.sleep(0.1)
            took = time.monotonic() - t0
            time.sleep(3)
            stop.set()
            poller.join()
            print(f"applied after {took:.1f} s{'; refused: ' + errors[0] if errors else ''}")
            print(f"longest /metrics answer meanwhile: {worst[0]:.2f} s; RSS 3 s after: {rss_mib(proc.pid)} MiB")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
