"""`meshgate run` as a user starts it: it prints where the Gateway listens and a working curl
line, serves through its managed Envoy and echo backends, and SIGTERM stops all it started."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from ..system_checks import processes_mentioning
from .harness import get
from .run_process import MeshgateRun, quickstart_copy

pytestmark = pytest.mark.envoy


def test_run_prints_serves_and_stops_cleanly(tmp_path: Path) -> None:
    config, base = quickstart_copy(tmp_path)  # the quickstart on an address of its own
    workdir = tmp_path / "work"
    run = MeshgateRun(config, "--workdir", str(workdir))
    try:
        run.wait_for("try: curl")
        text = run.text
        assert "try: curl" in text, text
        assert re.search(rf"gateway quickstart/web: http://{re.escape(base)}\.1:18080 +\(Envoy admin http://127\.0\.0\.1:\d+, "
                         rf"access log {re.escape(str(workdir))}/quickstart_web\.envoy\.log\)", text), text
        url = re.search(r"try: curl -s (\S+)", text).group(1)
        reply = get(url)
        assert reply.status == 200 and reply.pod == "web-5c7b8d6f4-h9t3z"
        assert get(url + "api").pod.startswith("api-")
        assert processes_mentioning(str(workdir)), "the managed Envoy runs with its bootstrap in the workdir"
        run.proc.send_signal(signal.SIGTERM)
        assert run.finish(timeout=30) == 0
    finally:
        run.kill()
    assert processes_mentioning(str(workdir)) == [], "an Envoy outlived meshgate"
    assert get(url).status == 0  # nothing listens any more
    assert os.path.isdir(workdir)
