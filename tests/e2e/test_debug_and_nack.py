"""The debug/metrics endpoint and a real NACK: config Envoy refuses keeps the last good one."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .harness import Scenario, gateway_yaml

pytestmark = pytest.mark.envoy

def with_listener_on(base: str, port: int) -> str:
    """The Gateway with a second listener on `port`."""
    return gateway_yaml(base) + f"  - {{name: other, port: {port}, protocol: HTTP}}\n"


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


def test_metrics_debug_config_and_a_real_nack(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        held = socket.socket()
        try:
            await sc.start()
            loop = asyncio.get_running_loop()
            debug = f"http://127.0.0.1:{sc.runner.debug.port}"
            status, text = await loop.run_in_executor(None, fetch, f"{debug}/metrics")
            assert status == 200
            assert b'meshgate_connected_proxies{protocol="delta"} 1.0' in text
            assert b'meshgate_xds_pushes_total{type="CDS"}' in text
            _, raw = await loop.run_in_executor(None, fetch, f"{debug}/debug/config?gateway=e2e/gw")
            dump = json.loads(raw)
            assert sorted(r["name"] for r in dump["CDS"]["resources"]) == [
                "outbound|80||api.e2e.svc.cluster.local", "outbound|80||web.e2e.svc.cluster.local"]
            assert dump["LDS"]["resources"][0]["resource"]["address"]["socket_address"]["port_value"] == 8080

            # Config meshgate cannot know is wrong: a listener on a port another process holds.
            # Envoy cannot bind it and NACKs the listeners (meshgate checks what it can at load
            # time, regexes included, so only such host-dependent refusals are left to Envoy).
            held.bind((f"{sc.base}.1", 8081))
            held.listen()
            sc.write({"gateway.yaml": with_listener_on(sc.base, 8081)})
            stream = sc.runner.registry.all()[0]
            deadline = loop.time() + 10
            while not any(t.nacks for t in stream.types.values()) and loop.time() < deadline:
                await asyncio.sleep(0.05)
            nacked = {t for t, s in stream.types.items() if s.nacks}
            assert len(nacked) == 1
            # The last ACKed config stays in force: traffic flows as before.
            assert (await sc.request("/api")).pod == "api-11"
            assert (await sc.request("/")).pod == "web-13"
            _, text = await loop.run_in_executor(None, fetch, f"{debug}/metrics")
            assert b'meshgate_xds_nacks_total{type="LDS"} 1.0' in text
            # `meshgate status --server` shows it, and says so in its exit status.
            exe = Path(sys.executable).parent / "meshgate"
            proc = await loop.run_in_executor(None, lambda: subprocess.run(
                [str(exe), "status", "--server", f"127.0.0.1:{sc.runner.debug.port}"],
                capture_output=True, text=True, timeout=30, check=False))
            assert proc.returncode == 1
            assert "Proxies" in proc.stdout and "LDS" in proc.stdout and "e2e/gw" in proc.stdout
            assert f"cannot bind '{sc.base}.1:8081'" in proc.stdout.lower()
        finally:
            held.close()
            await sc.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
