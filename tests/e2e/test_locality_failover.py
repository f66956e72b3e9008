"""Per-client locality load balancing with real Envoys.

Two Envoys in different localities (r1/z1 and r2/z1) front one ServiceEntry with endpoints in
r1/z1, r1/z2 and r2/z1, under a DestinationRule with outlierDetection. Each Envoy sends to its
own locality; when the r1/z1 backend stops, outlier detection ejects it and r1/z1's Envoy
fails over to the next priority (r1/z2); when it comes back, traffic returns.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.discovery.model import Locality
from meshgate.echo import EchoServer

from .fleet import Fleet, gateways_yaml, pod_at
from .harness import free_subnet

pytestmark = pytest.mark.envoy


def config(base: str) -> str:
    return gateways_yaml(base) + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: payments, namespace: apps}}
spec:
  parentRefs: [{{name: gw-a}}, {{name: gw-b}}]
  rules:
  - backendRefs: [{{group: networking.istio.io, kind: Hostname, name: payments.example.com, port: 80}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: payments, namespace: apps}}
spec:
  hosts: [payments.example.com]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP, targetPort: 9000}}]
  endpoints:
  - {{address: {base}.11, locality: r1/z1}}
  - {{address: {base}.12, locality: r1/z2}}
  - {{address: {base}.13, locality: r2/z1}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: payments, namespace: apps}}
spec:
  host: payments.example.com
  trafficPolicy:
    # maxEjectionPercent as Istio passes it (unset: Envoy's 10%, which ejects none of 3 hosts).
    outlierDetection: {{consecutive5xxErrors: 1, interval: 200ms, baseEjectionTime: 1s, maxEjectionPercent: 100}}
"""


def test_each_envoy_prefers_its_locality_and_fails_over(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "all.yaml").write_text(config(base))
        pods = {f"{base}.{i}": f"payments-{name}" for i, name in ((11, "r1z1"), (12, "r1z2"), (13, "r2z1"))}
        echoes = {a: EchoServer(a, 9000, pod=p, namespace="apps") for a, p in pods.items()}
        for e in echoes.values():
            e.start()
        fleet = Fleet(tmp_path / "config", tmp_path / "work")
        loop = asyncio.get_running_loop()

        async def until_pod(url: str, want: str, timeout: float = 15.0) -> str:
            deadline = loop.time() + timeout
            pod = await pod_at(url)
            while pod != want and loop.time() < deadline:
                await asyncio.sleep(0.05)
                pod = await pod_at(url)
            return pod

        try:
            await fleet.start({"apps/gw-a": Locality("r1", "z1"), "apps/gw-b": Locality("r2", "z1")})
            url_a, url_b = f"http://{base}.1:8080/", f"http://{base}.2:8080/"
            assert await until_pod(url_a, "payments-r1z1") == "payments-r1z1"
            assert await until_pod(url_b, "payments-r2z1") == "payments-r2z1"
            # Two localities, two per-client views: not one per proxy, not one for all.
            assert fleet.runner.control.context_count == 2
            for _ in range(10):  # they stay there
                assert await pod_at(url_a) == "payments-r1z1"
                assert await pod_at(url_b) == "payments-r2z1"
            # The r1/z1 backend stops: ejected after its first failure, traffic fails over.
            echoes[f"{base}.11"].stop()
            failed_over = await until_pod(url_a, "payments-r1z2")
            if failed_over != "payments-r1z2":
                print(await fleet.envoys[0].admin_get("/clusters"))  # outlier and priority state, for the failure report
            assert failed_over == "payments-r1z2"
            for _ in range(10):
                assert await pod_at(url_a) == "payments-r1z2"
            assert await pod_at(url_b) == "payments-r2z1"
            # It comes back: once the ejection ends, r1/z1's Envoy returns to it.
            echoes[f"{base}.11"] = EchoServer(f"{base}.11", 9000, pod="payments-r1z1", namespace="apps")
            echoes[f"{base}.11"].start()
            assert await until_pod(url_a, "payments-r1z1", timeout=30) == "payments-r1z1"
        finally:
            await fleet.stop()
            for e in echoes.values():
                e.stop()
    asyncio.run(asyncio.wait_for(body(), 180))
