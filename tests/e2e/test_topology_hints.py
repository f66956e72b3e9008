"""Topology hints with real Envoys: each sends only to its zone's hinted endpoints; when the
hints go, the zone-a Envoy spreads over every endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.discovery.model import Locality
from meshgate.echo import EchoServer

from .fleet import Fleet, gateways_yaml, until_pods
from .harness import free_subnet

pytestmark = pytest.mark.envoy


def config(base: str, hinted: bool) -> str:
    def endpoint(last: int, zone: str) -> str:
        hints = f", hints: {{forZones: [{{name: {zone}}}]}}" if hinted else ""
        return f"- {{addresses: [{base}.{last}], zone: {zone}, targetRef: {{kind: Pod, name: web-{zone}-{last}}}{hints}}}\n"
    return gateways_yaml(base) + """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps}
spec:
  parentRefs: [{name: gw-a}, {name: gw-b}]
  rules:
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: apps
  annotations: {service.kubernetes.io/topology-mode: Auto}
spec:
  ports: [{name: http, port: 80, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: apps
  labels: {kubernetes.io/service-name: web}  # hand-written: its hints stand as written
addressType: IPv4
ports: [{name: http, port: 9000, protocol: TCP}]
endpoints:
""" + endpoint(11, "zone-a") + endpoint(12, "zone-a") + endpoint(13, "zone-b") + endpoint(14, "zone-b")


def test_each_zone_uses_its_hinted_endpoints(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        cfg = tmp_path / "config"
        cfg.mkdir()
        (cfg / "all.yaml").write_text(config(base, hinted=True))
        echoes = [EchoServer(f"{base}.{i}", 9000, pod=f"web-zone-{'a' if i < 13 else 'b'}-{i}", namespace="apps")
                  for i in (11, 12, 13, 14)]
        for e in echoes:
            e.start()
        fleet = Fleet(cfg, tmp_path / "work")
        try:
            await fleet.start({"apps/gw-a": Locality("region-1", "zone-a"), "apps/gw-b": Locality("region-1", "zone-b")})
            url_a, url_b = f"http://{base}.1:8080/", f"http://{base}.2:8080/"
            zone_a = {f"web-zone-a-{i}" for i in (11, 12)}
            zone_b = {f"web-zone-b-{i}" for i in (13, 14)}
            assert await until_pods(url_a, zone_a) == zone_a
            assert await until_pods(url_b, zone_b) == zone_b
            assert fleet.runner.control.context_count == 2
            # The hints go: the zone-a Envoy spreads over every endpoint.
            (cfg / "all.yaml").write_text(config(base, hinted=False))
            assert await until_pods(url_a, zone_a | zone_b) == zone_a | zone_b
        finally:
            await fleet.stop()
            for e in echoes:
                e.stop()
    asyncio.run(asyncio.wait_for(body(), 180))
