"""Gateway `spec.infrastructure` on the managed Envoy, with a real Envoy.

The Gateway's infrastructure labels (with the gateway-name and gateway-class-name labels) are
its Envoy's proxy labels, and its annotations the Envoy's `meshgate.io/annotations`: Envoy
reports them in its own `/server_info`, and announces them to meshgate over xDS. Node metadata
is read at start, so a change of labels or annotations restarts that Envoy with the new ones;
any other change keeps it running.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from .harness import GATEWAY, Scenario, config, gateway_yaml

pytestmark = pytest.mark.envoy


def with_infrastructure(base: str, team: str) -> str:
    return gateway_yaml(base, infrastructure=f"{{labels: {{team: {team}}}, annotations: {{example.com/owner: alice}}}}")


async def node_metadata(sc: Scenario) -> dict:
    assert sc.runner is not None
    info = json.loads(await sc.runner.envoys[GATEWAY].admin_get("/server_info"))
    return info["node"]["metadata"]


def test_managed_envoy_carries_the_gateway_infrastructure(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        sc.write({"gateway.yaml": with_infrastructure(sc.base, "web")})
        try:
            await sc.start()
            assert sc.runner is not None
            labels = {"team": "web", "gateway.networking.k8s.io/gateway-name": "gw",
                      "gateway.networking.k8s.io/gateway-class-name": "meshgate"}
            meta = await node_metadata(sc)
            assert meta["meshgate.io/labels"] == labels
            assert meta["meshgate.io/annotations"] == {"example.com/owner": "alice"}
            (stream,) = sc.runner.registry.all()
            assert stream.identity is not None and stream.identity.labels_dict() == labels
            first = sc.runner.envoys[GATEWAY]
            pid = first.pid

            # Another change (a route's header value) keeps the Envoy.
            sc.write({"routes.yaml": config(sc.base, sc.web, api_header="changed")["routes.yaml"]})
            reply = await sc.until(lambda r: r.header("x-routed-by") == ["changed"], "/api")
            assert reply.header("x-routed-by") == ["changed"]
            assert sc.runner.envoys[GATEWAY] is first and first.pid == pid

            # New labels: a new Envoy with them, serving as before.
            sc.write({"gateway.yaml": with_infrastructure(sc.base, "payments")})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while (sc.runner.envoys.get(GATEWAY) is first or not sc.runner.envoys[GATEWAY].running) \
                    and loop.time() < deadline:
                await asyncio.sleep(0.05)
            assert sc.runner.envoys[GATEWAY] is not first and first.pid is None
            await sc.runner.envoys[GATEWAY].wait_ready()
            assert (await node_metadata(sc))["meshgate.io/labels"]["team"] == "payments"
            assert (await sc.until(lambda r: r.status == 200, "/")).pod == "web-13"
        finally:
            await sc.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
