"""--debug-address: the debug endpoint stays on 127.0.0.1 unless another address is asked for (a
Pod's probes and Prometheus reach it on the Pod's IP, so `meshgate manifests` asks for 0.0.0.0)."""

from __future__ import annotations

import asyncio
import shutil
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from meshgate.cli import main
from meshgate.runtime.run import Runner, RunOptions

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status


def test_the_debug_endpoint_listens_where_it_is_asked_and_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(QUICKSTART, config)
    said: list[str] = []

    async def body() -> None:
        # 127.0.0.2: another loopback address, so this proves the address is used, not assumed.
        runner = Runner(RunOptions([str(config)], xds_port=0, debug_port=0, debug_address="127.0.0.2",
                                   envoys=False), say=said.append)
        await runner.start()
        try:
            port = runner.debug.port
            assert await asyncio.to_thread(_get, f"http://127.0.0.2:{port}/healthz") == 200
            assert await asyncio.to_thread(_get, f"http://127.0.0.2:{port}/readyz") == 200
        finally:
            await runner.stop()
        assert any(f"metrics and debug on http://127.0.0.2:{port}/metrics" in line for line in said), said

    asyncio.run(asyncio.wait_for(body(), 60))


def test_loopback_is_the_default() -> None:
    assert RunOptions([]).debug_address == "127.0.0.1"
    serve = next(p for p in main.commands["serve"].params if p.name == "debug_address")
    assert serve.default == "127.0.0.1"


def test_a_debug_address_that_is_not_an_ip_is_refused() -> None:
    for command in ("serve", "run"):
        result = CliRunner().invoke(main, [command, str(QUICKSTART), "--debug-address", "localhost"])
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--debug-address': 'localhost' is not an IP address" in result.output
