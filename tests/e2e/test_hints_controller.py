"""The EndpointSlice controller's side, end to end: slices generated from Pods, hints computed
from Node CPU (annotation topology-mode: Auto), each zone's Envoy using its zone's endpoints;
remove the annotation and the hints go, and zone-a's Envoy spreads over all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meshgate.discovery.model import Locality
from meshgate.echo import EchoServer

from .fleet import Fleet, gateways_yaml, until_pods
from .harness import free_subnet

pytestmark = pytest.mark.envoy

PODS = {11: "zone-a", 12: "zone-a", 13: "zone-a", 14: "zone-b", 15: "zone-b", 16: "zone-b"}


def config(base: str, annotated: bool) -> str:
    annotation = "\n  annotations: {service.kubernetes.io/topology-mode: Auto}" if annotated else ""
    out = gateways_yaml(base) + f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: apps}}
spec:
  parentRefs: [{{name: gw-a}}, {{name: gw-b}}]
  rules:
  - backendRefs: [{{name: web, port: 80}}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: apps{annotation}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: 9000}}]
"""
    for zone in ("zone-a", "zone-b"):
        out += f"""---
apiVersion: v1
kind: Node
metadata:
  name: node-{zone}
  labels: {{topology.kubernetes.io/zone: {zone}, topology.kubernetes.io/region: region-1}}
status:
  allocatable: {{cpu: "4"}}
  conditions: [{{type: Ready, status: "True"}}]
"""
    for last, zone in PODS.items():
        out += f"""---
apiVersion: v1
kind: Pod
metadata: {{name: web-{last}, namespace: apps, labels: {{app: web}}}}
spec: {{nodeName: node-{zone}}}
status:
  podIP: {base}.{last}
  conditions: [{{type: Ready, status: "True"}}]
"""
    return out


def test_controller_hints_steer_each_zone_and_go_with_the_annotation(tmp_path: Path) -> None:
    async def body() -> None:
        base = free_subnet()
        cfg = tmp_path / "config"
        cfg.mkdir()
        (cfg / "all.yaml").write_text(config(base, annotated=True))
        echoes = [EchoServer(f"{base}.{last}", 9000, pod=f"web-{last}", namespace="apps") for last in PODS]
        for e in echoes:
            e.start()
        fleet = Fleet(cfg, tmp_path / "work")
        try:
            await fleet.start({"apps/gw-a": Locality("region-1", "zone-a"), "apps/gw-b": Locality("region-1", "zone-b")})
            events = [e.reason for evs in fleet.runner.control.discovery.hint_events.values() for e in evs]
            assert events == ["TopologyAwareHintsEnabled"]
            zone_a = {f"web-{i}" for i, z in PODS.items() if z == "zone-a"}
            zone_b = {f"web-{i}" for i, z in PODS.items() if z == "zone-b"}
            url_a, url_b = f"http://{base}.1:8080/", f"http://{base}.2:8080/"
            assert await until_pods(url_a, zone_a) == zone_a
            assert await until_pods(url_b, zone_b) == zone_b
            # Without the annotation the controller removes the hints: zone-a spreads over all.
            (cfg / "all.yaml").write_text(config(base, annotated=False))
            assert await until_pods(url_a, zone_a | zone_b) == zone_a | zone_b
        finally:
            await fleet.stop()
            for e in echoes:
                e.stop()
    asyncio.run(asyncio.wait_for(body(), 180))
