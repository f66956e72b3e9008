"""`meshgate run` as a user starts it: it prints where the Gateway listens and a working curl
line, serves through its managed Envoy and echo backends, and SIGTERM stops all it started."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .harness import free_subnet, get

pytestmark = pytest.mark.envoy

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def _processes_mentioning(text: str) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def test_run_prints_serves_and_stops_cleanly(tmp_path: Path) -> None:
    base = free_subnet()
    config = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, config)
    for f in config.glob("*.yaml"):  # the quickstart on an address of its own
        f.write_text(f.read_text().replace("127.0.0.", f"{base}."))
    workdir = tmp_path / "work"
    exe = Path(sys.executable).parent / "meshgate"
    proc = subprocess.Popen([str(exe), "run", str(config), "--echo", "--xds", "127.0.0.1:0", "--debug-port", "0",
                             "--workdir", str(workdir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Lines are read by a thread: select() on the pipe would miss lines already buffered.
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("try: curl" in line for line in seen) and time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
        text = "".join(seen)
        assert "try: curl" in text, text
        assert re.search(rf"gateway quickstart/web: http://{re.escape(base)}\.1:18080 +\(Envoy admin http://127\.0\.0\.1:\d+, "
                         rf"access log {re.escape(str(workdir))}/quickstart_web\.envoy\.log\)", text), text
        url = re.search(r"try: curl -s (\S+)", text).group(1)
        reply = get(url)
        assert reply.status == 200 and reply.pod == "web-5c7b8d6f4-h9t3z"
        assert get(url + "api").pod.startswith("api-")
        assert _processes_mentioning(str(workdir)), "the managed Envoy runs with its bootstrap in the workdir"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _processes_mentioning(str(workdir)) == [], "an Envoy outlived meshgate"
    assert get(url).status == 0  # nothing listens any more
    assert os.path.isdir(workdir)
