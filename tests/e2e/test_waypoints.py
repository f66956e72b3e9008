"""Waypoints with real Envoys: an ingress gateway sends to a captured Service's VIP, where the
waypoint (bound directly on the VIP) applies its route before the pods; with ingress-use-waypoint
off it goes straight to the pods. And the PROXY-protocol port, as ztunnel would hand it over."""

from __future__ import annotations

import asyncio
import http.client
import ipaddress
import json
import socket
import struct
from pathlib import Path

import pytest

from meshgate.echo import EchoServer
from meshgate.runtime.run import Runner, RunOptions

from .harness import free_subnet, get

pytestmark = pytest.mark.envoy


def config(base: str, ingress_label: str = "") -> str:
    label = f"\n  labels: {{istio.io/ingress-use-waypoint: \"{ingress_label}\"}}" if ingress_label else ""
    return f"""apiVersion: v1
kind: Namespace
metadata: {{name: shop, labels: {{istio.io/use-waypoint: wp}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: ingress, namespace: shop}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: http, port: 8080, protocol: HTTP}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: wp, namespace: shop}}
spec:
  gatewayClassName: meshgate-waypoint
  addresses: [{{type: IPAddress, value: "{base}.2"}}]
  listeners:
  - {{name: mesh, port: 15008, protocol: HBONE}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: to-cart, namespace: shop}}
spec:
  parentRefs: [{{name: ingress}}]
  rules:
  - backendRefs: [{{name: cart, port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: cart-policy, namespace: shop}}
spec:
  parentRefs: [{{group: "", kind: Service, name: cart, port: 80}}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: x-waypoint, value: passed}}]}}
    backendRefs: [{{name: cart, port: 80}}]
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop{label}
spec:
  clusterIP: {base}.10
  ports: [{{name: http, port: 80, targetPort: 9000}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cart-1
  namespace: shop
  labels: {{kubernetes.io/service-name: cart}}
addressType: IPv4
ports: [{{name: http, port: 9000, protocol: TCP}}]
endpoints:
- {{addresses: [{base}.11], targetRef: {{kind: Pod, name: cart-11}}}}
"""


async def _with_mesh(tmp_path: Path, ingress_label: str, body, ingress_use_waypoints: bool = True) -> None:
    base = free_subnet()
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "all.yaml").write_text(config(base, ingress_label))
    echo = EchoServer(f"{base}.11", 9000, pod="cart-11", namespace="shop")
    echo.start()
    runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work",
                               ingress_use_waypoints=ingress_use_waypoints), say=lambda line: None)
    try:
        await runner.start()
        assert sorted(runner.envoys) == ["shop/ingress", "shop/wp"]
        await body(base, runner)
    finally:
        await runner.stop()
        echo.stop()


async def _until(base: str, check, timeout: float = 15.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    reply = await loop.run_in_executor(None, get, f"http://{base}.1:8080/items")
    while not check(reply) and loop.time() < deadline:
        await asyncio.sleep(0.1)
        reply = await loop.run_in_executor(None, get, f"http://{base}.1:8080/items")
    return reply


def test_ingress_passes_the_waypoint(tmp_path: Path) -> None:
    async def body(base: str, runner: Runner) -> None:
        reply = await _until(base, lambda r: r.header("x-waypoint") == ["passed"])
        assert reply.pod == "cart-11" and reply.header("x-waypoint") == ["passed"]
    asyncio.run(asyncio.wait_for(_with_mesh(tmp_path, "", body), 120))


def test_ingress_use_waypoint_false_goes_straight_to_the_pods(tmp_path: Path) -> None:
    async def body(base: str, runner: Runner) -> None:
        reply = await _until(base, lambda r: r.pod == "cart-11")
        assert reply.pod == "cart-11"
        for _ in range(5):  # never through the waypoint
            assert (await asyncio.get_running_loop().run_in_executor(
                None, get, f"http://{base}.1:8080/items")).header("x-waypoint") == []
    asyncio.run(asyncio.wait_for(_with_mesh(tmp_path, "false", body), 120))


def test_switch_off_makes_ingress_use_waypoint_true_inert(tmp_path: Path) -> None:
    """INGRESS_USE_WAYPOINTS off (as Istio's ENABLE_INGRESS_WAYPOINT_ROUTING and kgateway's
    switch): a Service labelled ingress-use-waypoint=true is reached straight at its pods."""
    async def body(base: str, runner: Runner) -> None:
        reply = await _until(base, lambda r: r.pod == "cart-11")
        assert reply.pod == "cart-11"
        for _ in range(5):  # never through the waypoint
            assert (await asyncio.get_running_loop().run_in_executor(
                None, get, f"http://{base}.1:8080/items")).header("x-waypoint") == []
    asyncio.run(asyncio.wait_for(_with_mesh(tmp_path, "true", body, ingress_use_waypoints=False), 120))


def _proxy_v2_request(base: str, vip: str, port: int) -> tuple[int, dict]:
    """One HTTP request over a connection opened with a PROXY v2 header naming vip:port."""
    src = ipaddress.IPv4Address(f"{base}.99")
    dst = ipaddress.IPv4Address(vip)
    header = (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12)
              + src.packed + dst.packed + struct.pack("!HH", 40000, port))
    sock = socket.create_connection((f"{base}.2", 15088), timeout=5)
    try:
        sock.sendall(header)
        conn = http.client.HTTPConnection(f"{base}.2", 15088, timeout=5)
        conn.sock = sock
        conn.request("GET", "/via-proxy-protocol", headers={"Host": "cart.shop.svc.cluster.local"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        sock.close()


def test_proxy_protocol_port_routes_by_the_original_destination(tmp_path: Path) -> None:
    async def body(base: str, runner: Runner) -> None:
        loop = asyncio.get_running_loop()
        await _until(base, lambda r: r.header("x-waypoint") == ["passed"])  # the waypoint is serving
        status, echoed = await loop.run_in_executor(None, _proxy_v2_request, base, f"{base}.10", 80)
        assert status == 200 and echoed["pod"] == "cart-11"
        assert echoed["headers"].get("X-Waypoint") == ["passed"]
        # A destination the waypoint does not capture matches no filter chain: the connection closes.
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            await loop.run_in_executor(None, _proxy_v2_request, base, f"{base}.77", 80)
    asyncio.run(asyncio.wait_for(_with_mesh(tmp_path, "", body), 120))
