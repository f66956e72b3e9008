"""Envoy's statistics under `meshgate run`: `/metrics/envoy` on the debug port serves every managed
Envoy's Prometheus statistics, labelled by Gateway; per-cluster statistics only for a Gateway
whose infrastructure annotation `meshgate.io/stats-inclusion-prefixes` opts into them (the
default keeps the process-wide and per-listener ones); per-route statistics only for a route a
BackendTrafficPolicy names (telemetry.metrics.routeStatName), labelled with the whole virtual
host and route names though they hold dots and slashes."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from meshgate.runtime.run import Runner, RunOptions

from .harness import LISTEN_PORT, STEP, EchoServer, endpoint_yaml, free_subnet, get, service_yaml

pytestmark = pytest.mark.envoy

CLUSTER = "outbound|80||web_e2e_svc_cluster_local"  # its statistics name (xds/clusters.stat_name)
SHOP_HOST = "shop.e2e.example"
# A second route on the `plain` Gateway, with a hostname (its virtual host: http/shop.e2e.example)
# and a policy naming its statistics; the Gateway's own route has none.
SHOP = f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: shop, namespace: e2e}}
spec:
  parentRefs: [{{name: plain}}]
  hostnames: [{SHOP_HOST}]
  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {{name: shop-stats, namespace: e2e}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop}}]
  telemetry: {{metrics: {{routeStatName: "%ROUTE_KIND%/%ROUTE_NAMESPACE%/%ROUTE_NAME%/%ROUTE_RULE_NAME%"}}}}
"""
REQUESTS = 5
_SAMPLE = re.compile(r'^(\w+)\{(.*)\} (\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _gateway(name: str, address: str, annotations: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: e2e}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{address}"}}]
  infrastructure: {{annotations: {annotations}}}
  listeners: [{{name: http, port: {LISTEN_PORT}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: e2e}}
spec:
  parentRefs: [{{name: {name}}}]
  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]
"""


def _scrape(url: str) -> list[str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return resp.read().decode().splitlines()


def _get_host(url: str, host: str) -> int:
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _samples(lines: list[str], name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of metric `name`: (labels, value)."""
    out = []
    for line in lines:
        m = _SAMPLE.match(line)
        if m and m.group(1) == name:
            out.append((dict(_LABEL.findall(m.group(2))), float(m.group(3))))
    return out


def test_managed_envoys_statistics_are_scraped_through_meshgate(tmp_path: Path) -> None:
    base = free_subnet()
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "all.yaml").write_text("---\n".join([
        _gateway("plain", f"{base}.1", "{}"),
        _gateway("detailed", f"{base}.2", "{meshgate.io/stats-inclusion-prefixes: 'cluster.outbound|'}"),
        SHOP,
        service_yaml("web", 80, 9002, [endpoint_yaml(f"{base}.13", pod="web-13", ready=True)]),
    ]))
    echo = EchoServer(f"{base}.13", 9002, pod="web-13", namespace="e2e")
    echo.start()

    async def body() -> list[str]:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"), say=lambda _: None)
        await runner.start()
        loop = asyncio.get_running_loop()
        try:
            for octet in (1, 2):
                deadline = time.monotonic() + 20
                reply = await loop.run_in_executor(None, get, f"http://{base}.{octet}:{LISTEN_PORT}/")
                while reply.status != 200 and time.monotonic() < deadline:
                    await asyncio.sleep(STEP)
                    reply = await loop.run_in_executor(None, get, f"http://{base}.{octet}:{LISTEN_PORT}/")
                assert reply.pod == "web-13"
            # The shop route came in the same snapshot as the plain one, which serves.
            url = f"http://{base}.1:{LISTEN_PORT}/"
            statuses = [await loop.run_in_executor(None, _get_host, url, SHOP_HOST) for _ in range(REQUESTS)]
            assert statuses == [200] * REQUESTS
            return await loop.run_in_executor(None, _scrape, f"http://127.0.0.1:{runner.debug.port}/metrics/envoy")
        finally:
            await runner.stop()
            echo.stop()

    lines = asyncio.run(asyncio.wait_for(body(), 120))
    assert lines.count("# TYPE envoy_server_live gauge") == 1
    for gw in ("plain", "detailed"):
        assert f'envoy_server_live{{gateway="e2e/{gw}"}} 1' in lines
        assert any(line.startswith(f'envoy_cluster_upstream_cx_total{{gateway="e2e/{gw}",'
                                   f'envoy_cluster_name="meshgate-xds"}}') for line in lines)
    # Per-cluster statistics: only the Gateway that opted in has them, and they count its request.
    assert not [line for line in lines if 'gateway="e2e/plain"' in line and "outbound|" in line]
    (sent,) = [line for line in lines if line.startswith(
        f'envoy_cluster_upstream_rq_total{{gateway="e2e/detailed",envoy_cluster_name="{CLUSTER}"}}')]
    assert int(sent.rsplit(" ", 1)[1]) >= 1
    # Per-route statistics: only the shop route's, named by the policy, tagged with the whole names.
    vhost = {name for line in lines if (m := _SAMPLE.match(line)) and (name := m.group(1)).startswith("envoy_vhost")}
    assert vhost and all(name.startswith("envoy_vhost_route_") for name in vhost), vhost
    shop = {"gateway": "e2e/plain", "envoy_virtual_host": f"http/{SHOP_HOST}", "envoy_route": "HTTPRoute/e2e/shop/-"}
    assert _samples(lines, "envoy_vhost_route_upstream_rq") == [({**shop, "envoy_response_code": "200"}, REQUESTS)]
    assert _samples(lines, "envoy_vhost_route_upstream_rq_completed") == [(shop, REQUESTS)]
    routes = {(labels.get("envoy_virtual_host"), labels.get("envoy_route"))
              for name in vhost for labels, _ in _samples(lines, name)}
    assert routes == {(f"http/{SHOP_HOST}", "HTTPRoute/e2e/shop/-")}


def test_meshgate_serve_has_no_envoys_to_scrape(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.mkdir()

    async def body() -> int:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, envoys=False), say=lambda _: None)
        await runner.start()
        try:
            url = f"http://127.0.0.1:{runner.debug.port}/metrics/envoy"
            try:
                await asyncio.get_running_loop().run_in_executor(None, _scrape, url)
            except urllib.error.HTTPError as exc:
                return exc.code
            return 200
        finally:
            await runner.stop()

    assert asyncio.run(asyncio.wait_for(body(), 60)) == 404
