"""Global rate limits through `meshgate run`: a BackendTrafficPolicy with `rateLimit.type: Global`
makes the route ask meshgate's rate limit service (served on the xDS port, reached over the xDS
cluster) about each request; the service counts per distinct header value and answers 429 once
a value is over its limit, while another value and requests the rule does not select go through.
Editing the policy's limit changes the service's table without restarting anything."""

from __future__ import annotations

import asyncio
import http.client
from pathlib import Path

import pytest

from .harness import LISTEN_PORT, Scenario, endpoint_yaml, service_yaml

pytestmark = pytest.mark.envoy

PORT = 9005


def _policy(requests: int) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: counted, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{value: /counted}}}}]
    backendRefs: [{{name: counted, port: 80}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {{name: per-user, namespace: e2e}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: counted}}]
  rateLimit:
    type: Global
    global:
      rules:
      - clientSelectors: [{{headers: [{{name: x-user, type: Distinct}}]}}]
        limit: {{requests: {requests}, unit: Hour}}
"""


def _status(host: str, path: str, user: str | None) -> int:
    conn = http.client.HTTPConnection(host, LISTEN_PORT, timeout=10)
    try:
        conn.request("GET", path, headers={"x-user": user} if user else {})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_the_rate_limit_service_counts_for_the_route_and_follows_edits(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        backend = f"{sc.base}.25"
        sc.write({"counted.yaml": service_yaml("counted", 80, PORT, [endpoint_yaml(backend, pod="counted-25",
                                                                                   ready=True)]),
                  "policy.yaml": _policy(3)})
        sc.start_echo(backend, PORT, "counted-25")
        loop = asyncio.get_running_loop()

        async def status(user: str | None) -> int:
            return await loop.run_in_executor(None, _status, f"{sc.base}.1", "/counted", user)
        try:
            await sc.start()
            deadline = loop.time() + 15
            while await status(None) != 200 and loop.time() < deadline:
                await asyncio.sleep(0.05)
            # alice: three requests in the hour, then 429 (the service's answer).
            assert [await status("alice") for _ in range(4)] == [200, 200, 200, 429]
            # bob has buckets of his own; requests without the header are not selected by the rule.
            assert [await status("bob") for _ in range(3)] == [200, 200, 200]
            assert [await status(None) for _ in range(5)] == [200] * 5
            # A higher limit: the service's table follows the translation. A fresh user allowed a
            # fourth request shows the edit arrived; then another gets exactly five.
            sc.write({"policy.yaml": _policy(5)})
            applied = False
            for k in range(60):
                if [await status(f"probe-{k}") for _ in range(4)] == [200] * 4:
                    applied = True
                    break
                await asyncio.sleep(0.2)
            assert applied, "the new limit never reached the rate limit service"
            assert [await status("dave") for _ in range(6)] == [200] * 5 + [429]
        finally:
            await sc.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
