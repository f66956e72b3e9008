"""Ports on one host: a Gateway whose port is taken is not Programmed, and says why.

Two Gateways on one address:port under `meshgate run`: the older one serves every request (they
used to both bind with SO_REUSEPORT and split the traffic), the younger one reports
Programmed=False. A port held by another program: the Envoy cannot bind, NACKs the listener, and
the Gateway's status says so instead of Programmed=True.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from pathlib import Path

import pytest

from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner, RunOptions

from .harness import LISTEN_PORT, endpoint_yaml, free_subnet, gateway_yaml, get, service_yaml

pytestmark = pytest.mark.envoy

PORT = LISTEN_PORT  # where gateway_yaml's Gateways listen


def files(base: str) -> dict[str, str]:
    def gateway_and_route(name: str, created: str, header: str) -> str:
        return f"""{gateway_yaml(base, name, created)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: e2e}}
spec:
  parentRefs: [{{name: {name}}}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: x-gateway, value: {header}}}]}}
    backendRefs: [{{name: web, port: 80}}]
"""
    return {
        "old.yaml": gateway_and_route("old", "2026-01-01T00:00:00Z", "old"),
        "young.yaml": gateway_and_route("young", "2026-01-02T00:00:00Z", "young"),
        "web.yaml": service_yaml("web", 80, 9002, [endpoint_yaml(f"{base}.11")]),
    }


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def gateway_status(debug_port: int, name: str) -> dict:
    doc = fetch_json(f"http://127.0.0.1:{debug_port}/debug/status")
    return next(s["status"] for s in doc["status"] if s["kind"] == "Gateway" and s["metadata"]["name"] == name)


def condition(conditions: list[dict], type_: str) -> dict:
    return next(c for c in conditions if c["type"] == type_)


async def started(tmp_path: Path, config: dict[str, str], base: str) -> tuple[Runner, EchoServer]:
    cfg = tmp_path / "config"
    cfg.mkdir()
    for name, text in config.items():
        (cfg / name).write_text(text)
    echo = EchoServer(f"{base}.11", 9002, pod="web-11", namespace="e2e")
    echo.start()
    runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"), say=lambda _: None)
    await runner.start()
    return runner, echo


def test_two_gateways_on_one_port_the_older_serves_everything(tmp_path: Path) -> None:
    base = free_subnet()

    async def body() -> None:
        runner, echo = await started(tmp_path, files(base), base)
        try:
            loop = asyncio.get_running_loop()
            url = f"http://{base}.1:{PORT}/"
            deadline = loop.time() + 15
            reply = await loop.run_in_executor(None, get, url)
            while reply.status != 200 and loop.time() < deadline:
                await asyncio.sleep(0.05)
                reply = await loop.run_in_executor(None, get, url)
            served_by = []
            for _ in range(40):  # fresh connections: a second bound socket would take some
                reply = await loop.run_in_executor(None, get, url)
                served_by.append(reply.header("x-gateway")[0] if reply.header("x-gateway") else str(reply.status))
            assert served_by == ["old"] * 40
            young = await loop.run_in_executor(None, gateway_status, runner.debug.port, "young")
            assert condition(young["conditions"], "Programmed")["status"] == "False"
            assert condition(young["conditions"], "Programmed")["reason"] == "AddressNotUsable"
            assert "e2e/old" in condition(young["listeners"][0]["conditions"], "Programmed")["message"]
            old = await loop.run_in_executor(None, gateway_status, runner.debug.port, "old")
            assert condition(old["conditions"], "Programmed")["status"] == "True"
        finally:
            await runner.stop()
            echo.stop()

    asyncio.run(asyncio.wait_for(body(), 120))


def test_a_port_another_program_holds_shows_in_programmed(tmp_path: Path) -> None:
    base = free_subnet()
    config = files(base)
    del config["young.yaml"]
    holder = socket.socket()
    holder.bind((f"{base}.1", PORT))
    holder.listen()

    async def body() -> None:
        runner, echo = await started(tmp_path, config, base)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            status = await loop.run_in_executor(None, gateway_status, runner.debug.port, "old")
            while (condition(status["conditions"], "Programmed")["status"] == "True"
                   and loop.time() < deadline):
                await asyncio.sleep(0.1)
                status = await loop.run_in_executor(None, gateway_status, runner.debug.port, "old")
            programmed = condition(status["conditions"], "Programmed")
            assert programmed["status"] == "False", programmed
            assert programmed["reason"] == "AddressNotUsable"
            assert "LDS" in programmed["message"] and f"{base}.1:{PORT}" in programmed["message"]
            listener = condition(status["listeners"][0]["conditions"], "Programmed")
            assert listener["status"] == "False" and str(PORT) in listener["message"]
            # The proxies' answer, not a guess: the stream holds the NACK that says so.
            assert any(ts.nack for st in runner.registry.all() for ts in st.types.values())
        finally:
            await runner.stop()
            echo.stop()
            holder.close()

    asyncio.run(asyncio.wait_for(body(), 120))
