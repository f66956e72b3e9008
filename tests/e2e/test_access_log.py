"""A request through a managed Envoy leaves an access-log line naming the HTTPRoute rule that
routed it, the Service that served it and the Pod that answered (from xDS metadata)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from .harness import Scenario

pytestmark = pytest.mark.envoy


def test_access_log_names_route_and_service(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        try:
            await sc.start()
            assert (await sc.request("/api/logged?x=1")).pod == "api-11"
            log_path = sc.runner.envoys["e2e/gw"].log_path
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            line = None
            while line is None and loop.time() < deadline:  # Envoy flushes access logs periodically
                for text in log_path.read_text().splitlines():
                    # Envoy's own log shares the file: the JSON may follow other output on a line.
                    if '"path":"/api/logged?x=1"' in text:
                        line = json.loads(text[text.index("{"):])
                await asyncio.sleep(0.1)
            assert line is not None, "no access-log line for the request"
            assert line["status"] == 200
            assert line["upstream_cluster"] == "outbound|80||api.e2e.svc.cluster.local"
            assert {"kind": "HTTPRoute", "groupVersion": "gateway.networking.k8s.io/v1", "namespace": "e2e",
                    "name": "api", "sectionName": "0"} in line["route_resources"]
            assert {"kind": "Service", "groupVersion": "v1", "namespace": "e2e", "name": "api"} in line["cluster_resources"]
            assert line["endpoint_resources"] == [{"kind": "Pod", "groupVersion": "v1", "namespace": "e2e",
                                                   "name": "api-11"}]
        finally:
            await sc.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
