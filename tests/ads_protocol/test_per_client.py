"""Per-client views over ADS: endpoint priorities by proxy locality, shared per context, and
DestinationRules selected by proxy labels."""

from __future__ import annotations

import asyncio
from pathlib import Path

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2

from meshgate.xds.resources import CLUSTER, ENDPOINT

from .harness import ControlPlaneUnderTest, FakeEnvoy, node

PAYMENTS = "outbound|80||payments.example.com"
EXTRA = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: payments, namespace: quickstart}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /pay}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: payments.example.com, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: quickstart}
spec:
  hosts: [payments.example.com]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints:
  - {address: 127.0.9.1, locality: r1/z1}
  - {address: 127.0.9.2, locality: r2/z1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: quickstart}
spec:
  host: payments.example.com
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1}
"""
CANARY_RULE = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments-canary, namespace: quickstart}
spec:
  host: payments.example.com
  workloadSelector: {matchLabels: {track: canary}}
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    outlierDetection: {consecutive5xxErrors: 1}
"""


def located(region: str, labels: dict[str, str] | None = None, node_id: str = "e"):
    n = node(node_id=node_id)
    n.locality.region, n.locality.zone = region, "z1"
    for k, v in (labels or {}).items():
        n.metadata.fields["meshgate.io/labels"].struct_value.fields[k].string_value = v
    return n


async def first_assignment(cp: ControlPlaneUnderTest, n, keep: list[FakeEnvoy] | None = None) -> dict[str, int]:
    """The priorities a proxy is first sent; its stream stays open when `keep` is given."""
    envoy = FakeEnvoy(cp.channel(), delta=True)
    await envoy.send(node=n, type_url=ENDPOINT, resource_names_subscribe=[PAYMENTS])
    resp = await envoy.recv()
    if keep is None:
        await envoy.close()
    else:
        keep.append(envoy)
    cla = endpoint_pb2.ClusterLoadAssignment()
    resp.resources[0].resource.Unpack(cla)
    return {lb.endpoint.address.socket_address.address: loc.priority for loc in cla.endpoints for lb in loc.lb_endpoints}


def test_priorities_follow_each_proxy_and_contexts_are_shared(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        (cp.dir / "payments.yaml").write_text(EXTRA)
        async with cp:
            assert await first_assignment(cp, located("r1", node_id="a1")) == {"127.0.9.1": 0, "127.0.9.2": 1}
            assert await first_assignment(cp, located("r2", node_id="b1")) == {"127.0.9.1": 1, "127.0.9.2": 0}
            connected: list[FakeEnvoy] = []
            for i in range(20):  # twenty more proxies in the same two localities, connected together
                await first_assignment(cp, located("r1" if i % 2 else "r2", node_id=f"p{i}"), connected)
            assert cp.control.context_count == 2
            for envoy in connected:
                await envoy.close()
            # An endpoint change reaches every context.
            text = (cp.dir / "payments.yaml").read_text().replace("127.0.9.2", "127.0.9.3")
            assert await cp.change_file("payments.yaml", text) == "full"
            assert await first_assignment(cp, located("r2", node_id="b2")) == {"127.0.9.1": 1, "127.0.9.3": 0}
    asyncio.run(asyncio.wait_for(body(), 60))


def test_destination_rule_selected_by_proxy_labels(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        (cp.dir / "payments.yaml").write_text(EXTRA + "---\n" + CANARY_RULE)
        async with cp:
            async def lb_policy(labels: dict[str, str]) -> int:
                envoy = FakeEnvoy(cp.channel(), delta=True)
                await envoy.send(node=located("r1", labels), type_url=CLUSTER)
                resp = await envoy.recv()
                await envoy.close()
                c = cluster_pb2.Cluster()
                next(r for r in resp.resources if r.name == PAYMENTS).resource.Unpack(c)
                return c.lb_policy
            assert await lb_policy({"track": "canary"}) == cluster_pb2.Cluster.RANDOM
            assert await lb_policy({"track": "stable"}) == cluster_pb2.Cluster.ROUND_ROBIN
    asyncio.run(asyncio.wait_for(body(), 60))


HINTED_LATER = """apiVersion: v1
kind: Service
metadata: {{name: zonal, namespace: quickstart{annotations}}}
spec:
  ports: [{{name: http, port: 80, targetPort: 9000}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: zonal, namespace: quickstart}}
spec:
  parentRefs: [{{name: web}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /zonal}}}}]
    backendRefs: [{{name: zonal, port: 80}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: zonal-1
  namespace: quickstart
  labels: {{kubernetes.io/service-name: zonal}}
addressType: IPv4
ports: [{{name: http, port: 9000, protocol: TCP}}]
endpoints:
- {{addresses: [127.0.9.21], zone: z1{hint1}}}
- {{addresses: [127.0.9.22], zone: z2{hint2}}}
"""


def test_a_connected_proxy_follows_hints_that_appear_later(tmp_path: Path) -> None:
    zonal = "outbound|80||zonal.quickstart.svc.cluster.local"

    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        (cp.dir / "zonal.yaml").write_text(HINTED_LATER.format(annotations="", hint1="", hint2=""))
        async with cp:
            envoy = FakeEnvoy(cp.channel(), delta=True)
            await envoy.send(node=located("r1"), type_url=ENDPOINT, resource_names_subscribe=[zonal])
            first = await envoy.recv()
            await envoy.send(type_url=ENDPOINT, response_nonce=first.nonce)

            def addresses(resp) -> set[str]:
                cla = endpoint_pb2.ClusterLoadAssignment()
                next(r for r in resp.resources if r.name == zonal).resource.Unpack(cla)
                return {lb.endpoint.address.socket_address.address for loc in cla.endpoints for lb in loc.lb_endpoints}

            assert addresses(first) == {"127.0.9.21", "127.0.9.22"}
            # The slice gains zone hints while the proxy (in z1) is connected: it moves to its
            # zone's view without reconnecting.
            hinted = HINTED_LATER.format(annotations="", hint1=", hints: {forZones: [{name: z1}]}",
                                         hint2=", hints: {forZones: [{name: z2}]}")
            await cp.change_file("zonal.yaml", hinted)
            push = await envoy.recv()
            assert addresses(push) == {"127.0.9.21"}
            # And back when the hints go (the endpoint path updates only this cluster's view).
            await envoy.send(type_url=ENDPOINT, response_nonce=push.nonce)
            await cp.change_file("zonal.yaml", HINTED_LATER.format(annotations="", hint1="", hint2=""))
            back = await envoy.recv()
            assert addresses(back) == {"127.0.9.21", "127.0.9.22"}
            await envoy.close()
    asyncio.run(asyncio.wait_for(body(), 60))
