"""ADS protocol behaviour, with a gRPC client playing Envoy (State of the World and Delta)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from envoy.config.endpoint.v3 import endpoint_pb2

from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE

from .harness import API_CLUSTER, WEB_CLUSTER, ControlPlaneUnderTest, FakeEnvoy, node

SLICE = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: quickstart
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- name: http
  port: 9002
  protocol: TCP
endpoints:
{endpoints}"""


def web_slice(*addresses: str) -> str:
    eps = "".join(f"- addresses: [\"{a}\"]\n  conditions: {{ready: true}}\n" for a in addresses)
    return SLICE.format(endpoints=eps)


def addresses(resource_any) -> list[str]:
    cla = endpoint_pb2.ClusterLoadAssignment()
    resource_any.Unpack(cla)
    return sorted(lb.endpoint.address.socket_address.address for loc in cla.endpoints for lb in loc.lb_endpoints)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


# --------------------------------------------------------------------------------------------
# State of the World


def test_sotw_initial_ack_and_endpoint_push(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=False)
            await envoy.send(node=node(), type_url=CLUSTER)
            cds = await envoy.recv()
            assert cds.type_url == CLUSTER and cds.nonce and cds.version_info
            assert len(cds.resources) == 2
            await envoy.send(type_url=CLUSTER, version_info=cds.version_info, response_nonce=cds.nonce)
            await envoy.send(type_url=ENDPOINT, resource_names=[API_CLUSTER, WEB_CLUSTER])
            eds = await envoy.recv()
            assert eds.type_url == ENDPOINT and len(eds.resources) == 2
            await envoy.send(type_url=ENDPOINT, resource_names=[API_CLUSTER, WEB_CLUSTER],
                             version_info=eds.version_info, response_nonce=eds.nonce)
            await envoy.expect_nothing()  # ACKs are not answered
            # An EndpointSlice change takes the endpoint path and pushes EDS only.
            assert await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.13", "127.0.0.14"))) == "endpoints"
            push = await envoy.recv()
            assert push.type_url == ENDPOINT and push.version_info != eds.version_info
            web = [r for r in push.resources if addresses(r) == ["127.0.0.13", "127.0.0.14"]]
            assert len(web) == 1
            await envoy.send(type_url=ENDPOINT, resource_names=[API_CLUSTER, WEB_CLUSTER],
                             version_info=push.version_info, response_nonce=push.nonce)
            await envoy.expect_nothing()
            await envoy.close()
    run(body())


def _services_with(slice_text: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "services.yaml").read_text()
    head, sep, _ = text.partition("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1")
    assert sep, "the quickstart's web-1 slice is the last document"
    return head + slice_text


def test_sotw_nack_keeps_last_version_and_is_recorded(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=False)
            await envoy.send(node=node(), type_url=LISTENER)
            lds = await envoy.recv()
            await envoy.nack(LISTENER, lds.nonce, "listener 0.0.0.0_18080: bad config")
            await envoy.expect_nothing()  # nothing is resent until the config moves
            (st,) = cp.registry.all()
            ts = st.types[LISTENER]
            assert ts.nacks == 1 and "bad config" in ts.nack and ts.acked_version == ""
            assert cp.metrics.nacks.labels("LDS")._value.get() == 1
            # A later ACK clears the error.
            await envoy.send(type_url=LISTENER, version_info=lds.version_info, response_nonce=lds.nonce)
            await asyncio.sleep(0.1)
            assert ts.nack == "" and ts.acked_version == lds.version_info
            await envoy.close()
    run(body())


def test_sotw_stale_nonce_is_ignored(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=False)
            await envoy.send(node=node(), type_url=CLUSTER)
            first = await envoy.recv()
            await envoy.send(type_url=CLUSTER, response_nonce="not-a-nonce-we-sent", version_info="x",
                             resource_names=["something"])
            await envoy.expect_nothing()
            (st,) = cp.registry.all()
            assert st.types[CLUSTER].acked_version == ""
            await envoy.send(type_url=CLUSTER, version_info=first.version_info, response_nonce=first.nonce)
            await asyncio.sleep(0.1)
            assert st.types[CLUSTER].acked_version == first.version_info
            await envoy.close()
    run(body())


def test_sotw_pushes_clusters_before_endpoints_and_listeners_before_routes(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=False)
            await envoy.send(node=node(), type_url=CLUSTER)
            await envoy.recv()
            await envoy.send(type_url=LISTENER)
            await envoy.recv()
            await envoy.send(type_url=ROUTE, resource_names=["http.18080"])
            await envoy.recv()
            await envoy.send(type_url=ENDPOINT, resource_names=[API_CLUSTER, WEB_CLUSTER])
            await envoy.recv()
            # Move the Gateway's port and the api Service's port: every type changes at once.
            gw = (cp.dir / "gateway.yaml").read_text().replace("port: 18080", "port: 18081")
            routes = (cp.dir / "routes.yaml").read_text().replace("port: 80", "port: 81")
            services = (cp.dir / "services.yaml").read_text().replace("  - name: http\n    port: 80\n    targetPort: http",
                                                                     "  - name: http\n    port: 81\n    targetPort: http")
            (cp.dir / "gateway.yaml").write_text(gw)
            (cp.dir / "routes.yaml").write_text(routes)
            (cp.dir / "services.yaml").write_text(services)
            changes = cp.control.provider.load_all()
            assert cp.control.apply(changes) == "full"
            await cp.cache.notify()
            order = [(await envoy.recv()).type_url for _ in range(4)]
            assert order.index(CLUSTER) < order.index(ENDPOINT)
            assert order.index(LISTENER) < order.index(ROUTE)
            await envoy.close()
    run(body())


def test_node_without_gateway_is_refused(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=False)
            bad = node()
            bad.ClearField("metadata")
            bad.cluster = ""
            await envoy.send(node=bad, type_url=CLUSTER)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await envoy.recv()
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "names no Gateway" in err.value.details()
    run(body())


# --------------------------------------------------------------------------------------------
# Delta


def test_delta_wildcard_changes_only_and_removal(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=True)
            await envoy.send(node=node(), type_url=CLUSTER)
            cds = await envoy.recv()
            assert sorted(r.name for r in cds.resources) == [API_CLUSTER, WEB_CLUSTER]
            await envoy.send(type_url=CLUSTER, response_nonce=cds.nonce)
            await envoy.send(type_url=ENDPOINT, resource_names_subscribe=[API_CLUSTER, WEB_CLUSTER])
            eds = await envoy.recv()
            assert len(eds.resources) == 2
            await envoy.send(type_url=ENDPOINT, response_nonce=eds.nonce)
            await envoy.expect_nothing()
            # One slice changes: only that cluster's assignment is sent.
            await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.15")))
            push = await envoy.recv()
            assert push.type_url == ENDPOINT
            assert [r.name for r in push.resources] == [WEB_CLUSTER]
            assert addresses(push.resources[0].resource) == ["127.0.0.15"]
            await envoy.send(type_url=ENDPOINT, response_nonce=push.nonce)
            # The web route goes away: its cluster is removed, by name.
            routes = (cp.dir / "routes.yaml").read_text()
            await cp.change_file("routes.yaml", routes.split("\n---\n")[0] + "\n")
            removal = await envoy.recv()
            assert removal.type_url == CLUSTER and list(removal.removed_resources) == [WEB_CLUSTER]
            assert not removal.resources
            await envoy.close()
    run(body())


def test_delta_unsubscribe(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=True)
            await envoy.send(node=node(), type_url=ENDPOINT, resource_names_subscribe=[API_CLUSTER, WEB_CLUSTER])
            eds = await envoy.recv()
            await envoy.send(type_url=ENDPOINT, response_nonce=eds.nonce, resource_names_unsubscribe=[WEB_CLUSTER])
            await envoy.expect_nothing()
            await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.16")))
            await envoy.expect_nothing()  # no longer subscribed to the web cluster
            await envoy.close()
    run(body())


def test_delta_names_added_later_are_sent_alone_and_again_after_an_unsubscribe(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=True)
            await envoy.send(node=node(), type_url=ENDPOINT, resource_names_subscribe=[API_CLUSTER])
            first = await envoy.recv()
            assert [r.name for r in first.resources] == [API_CLUSTER]
            await envoy.send(type_url=ENDPOINT, response_nonce=first.nonce, resource_names_subscribe=[WEB_CLUSTER])
            added = await envoy.recv()
            assert [r.name for r in added.resources] == [WEB_CLUSTER] and not added.removed_resources
            await envoy.send(type_url=ENDPOINT, response_nonce=added.nonce, resource_names_unsubscribe=[WEB_CLUSTER])
            await envoy.expect_nothing()
            await envoy.send(type_url=ENDPOINT, resource_names_subscribe=[WEB_CLUSTER])
            again = await envoy.recv()  # the client dropped it when it unsubscribed: sent again
            assert [r.name for r in again.resources] == [WEB_CLUSTER]
            await envoy.close()
    run(body())


def test_delta_reconnect_with_known_versions_gets_only_differences(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            first = FakeEnvoy(cp.channel(), delta=True)
            await first.send(node=node(), type_url=CLUSTER)
            cds = await first.recv()
            versions = {r.name: r.version for r in cds.resources}
            await first.close()
            # Reconnect knowing both clusters at their versions: an empty answer.
            second = FakeEnvoy(cp.channel(), delta=True)
            await second.send(node=node(), type_url=CLUSTER, initial_resource_versions=versions)
            again = await second.recv()
            assert not again.resources and not again.removed_resources
            await second.close()
            # Reconnect with one stale version and one cluster that no longer exists.
            third = FakeEnvoy(cp.channel(), delta=True)
            await third.send(node=node(), type_url=CLUSTER, initial_resource_versions={
                API_CLUSTER: "stale", "outbound|1||gone.example": "v"})
            diff = await third.recv()
            # The stale one is resent, the unknown one is sent, the vanished one is removed.
            assert sorted(r.name for r in diff.resources) == [API_CLUSTER, WEB_CLUSTER]
            assert list(diff.removed_resources) == ["outbound|1||gone.example"]
            await third.close()
    run(body())


def test_delta_nack_is_recorded(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=True)
            await envoy.send(node=node(), type_url=LISTENER)
            lds = await envoy.recv()
            await envoy.nack(LISTENER, lds.nonce, "rejected by test")
            await envoy.expect_nothing()
            (st,) = cp.registry.all()
            assert st.types[LISTENER].nacks == 1 and st.types[LISTENER].nack == "rejected by test"
            await envoy.close()
    run(body())
