"""A ServiceEntry whose only VIP is the one Istio's allocator wrote in its status.addresses
(kgateway #14390), with real Envoys: the waypoint captures it on that VIP and the ingress
gateway reaches it through the waypoint."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner, RunOptions

from .harness import free_subnet, get

pytestmark = pytest.mark.envoy


def config(base: str) -> str:
    return f"""apiVersion: v1
kind: Namespace
metadata: {{name: ext, labels: {{istio.io/use-waypoint: wp}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: ingress, namespace: ext}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: http, port: 8080, protocol: HTTP}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: wp, namespace: ext}}
spec:
  gatewayClassName: meshgate-waypoint
  addresses: [{{type: IPAddress, value: "{base}.2"}}]
  listeners:
  - {{name: mesh, port: 15008, protocol: HBONE}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: to-weather, namespace: ext}}
spec:
  parentRefs: [{{name: ingress}}]
  rules:
  - backendRefs: [{{group: networking.istio.io, kind: Hostname, name: weather.example.com, port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: weather-policy, namespace: ext}}
spec:
  parentRefs: [{{group: networking.istio.io, kind: ServiceEntry, name: weather}}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: x-waypoint, value: passed}}]}}
    backendRefs: [{{group: networking.istio.io, kind: ServiceEntry, name: weather, port: 80}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: weather, namespace: ext}}
spec:
  hosts: [weather.example.com]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP, targetPort: 9000}}]
  endpoints:
  - {{address: {base}.11}}
status:
  addresses:
  - {{host: weather.example.com, value: {base}.10}}
"""


def test_ingress_reaches_an_allocated_address_through_the_waypoint(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        cfg = tmp_path / "config"
        cfg.mkdir()
        (cfg / "all.yaml").write_text(config(base))
        echo = EchoServer(f"{base}.11", 9000, pod="weather-11", namespace="ext")
        echo.start()
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"),
                        say=lambda line: None)
        loop = asyncio.get_running_loop()
        try:
            await runner.start()
            assert sorted(runner.envoys) == ["ext/ingress", "ext/wp"]
            deadline = loop.time() + 15
            reply = await loop.run_in_executor(None, get, f"http://{base}.1:8080/forecast")
            while reply.header("x-waypoint") != ["passed"] and loop.time() < deadline:
                await asyncio.sleep(0.1)
                reply = await loop.run_in_executor(None, get, f"http://{base}.1:8080/forecast")
            # The waypoint's route ran (its header reached the backend): the ingress sent to
            # the allocated VIP, where the waypoint listens.
            assert (reply.status, reply.pod, reply.header("x-waypoint")) == (200, "weather-11", ["passed"])
            # And the waypoint answers on that VIP itself.
            direct = await loop.run_in_executor(None, get, f"http://{base}.10:80/direct")
            assert (direct.status, direct.header("x-waypoint")) == (200, ["passed"])
        finally:
            await runner.stop()
            echo.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
