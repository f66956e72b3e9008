"""What clients leave behind is freed, and what one client may hold is capped: per-client
views, cache entries of unknown Gateways, subscriptions and node metadata."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import grpc
import pytest
from envoy.config.cluster.v3 import cluster_pb2

from meshgate.xds.limits import XdsLimits
from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER
from meshgate.xds.snapshot import ClusterPlan

from .harness import API_CLUSTER, GATEWAY, ControlPlaneUnderTest, FakeEnvoy, node
from .test_per_client import CANARY_RULE, EXTRA, PAYMENTS, located

CLOSE_TIMEOUT_S = 10.0


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def labelled(labels: dict[str, str], gateway: str = GATEWAY, node_id: str = "e"):
    n = located("r1", labels, node_id=node_id)
    n.metadata.fields["meshgate.io/gateway"].string_value = gateway
    return n


async def connect(cp: ControlPlaneUnderTest, n, delta: bool = True) -> tuple[FakeEnvoy, object]:
    """A proxy subscribed to CDS, with its first response (or the error that ended its stream)."""
    envoy = FakeEnvoy(cp.channel(), delta=delta)
    await envoy.send(node=n, type_url=CLUSTER)
    try:
        return envoy, await envoy.recv()
    except grpc.aio.AioRpcError as exc:
        return envoy, exc


async def all_closed(cp: ControlPlaneUnderTest) -> None:
    """Wait (bounded) until the server has closed every stream."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CLOSE_TIMEOUT_S
    while cp.registry.all() and loop.time() < deadline:
        await asyncio.sleep(0.02)
    assert not cp.registry.all(), [s.to_dict() for s in cp.registry.all()]


def alive(cls: type) -> int:
    """How many instances of `cls` exist (outside what a translation froze)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def lb_policy(resp) -> int:
    c = cluster_pb2.Cluster()
    next(r for r in resp.resources if r.name == PAYMENTS).resource.Unpack(c)
    return c.lb_policy


def test_views_and_entries_are_freed_when_their_proxies_leave(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        # A DestinationRule selecting by label: every distinct label set gets a view of its own.
        (cp.dir / "payments.yaml").write_text(EXTRA + "---\n" + CANARY_RULE)
        async with cp:
            baseline = cp.cache.gateways()
            assert cp.control.context_count == 0 and baseline == [GATEWAY]
            plans = alive(ClusterPlan)
            envoys = []
            for i in range(40):
                envoy, resp = await connect(cp, labelled({"pod": f"p{i}", "track": "canary" if i % 2 else "stable"},
                                                         node_id=f"p{i}"))
                assert lb_policy(resp) == (cluster_pb2.Cluster.RANDOM if i % 2 else cluster_pb2.Cluster.ROUND_ROBIN)
                envoys.append(envoy)
            # Proxies of Gateways that do not exist are served nothing, and kept nowhere after.
            for i in range(10):
                envoy, resp = await connect(cp, labelled({}, gateway=f"nowhere/gw-{i}"), delta=bool(i % 2))
                assert not resp.resources  # type: ignore[attr-defined]
                envoys.append(envoy)
            assert cp.control.context_count == 40
            assert cp.metrics.views._value.get() == 40
            for envoy in envoys:
                await envoy.close()
            await all_closed(cp)
            assert cp.control.context_count == 0
            assert cp.metrics.views._value.get() == 0
            assert cp.cache.gateways() == baseline
            assert alive(ClusterPlan) == plans  # nor do their plans stay until the next translation
            # A re-translation rebuilds no view (it rebuilds exactly the live ones).
            text = (cp.dir / "payments.yaml").read_text().replace("127.0.9.2", "127.0.9.3")
            assert await cp.change_file("payments.yaml", text) == "full"
            assert cp.control.context_count == 0 and cp.cache.gateways() == baseline
            # And views come back as proxies do.
            envoy, resp = await connect(cp, labelled({"track": "canary"}))
            assert lb_policy(resp) == cluster_pb2.Cluster.RANDOM and cp.control.context_count == 1
            await envoy.close()
    run(body())


def test_a_view_a_connected_proxy_moves_away_from_is_freed(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path)
        (cp.dir / "payments.yaml").write_text(EXTRA + "---\n" + CANARY_RULE)
        async with cp:
            envoy, resp = await connect(cp, labelled({"track": "canary"}))
            assert lb_policy(resp) == cluster_pb2.Cluster.RANDOM and cp.control.context_count == 1
            (st,) = cp.registry.all()
            labelled_view = st.cache_key
            await envoy.send(type_url=CLUSTER, response_nonce=resp.nonce)  # type: ignore[attr-defined]
            # The rule that selected by label goes: the proxy moves to the view of its locality
            # alone (EXTRA's rule has locality load balancing) without reconnecting, and the
            # view of its labels is freed.
            await cp.change_file("payments.yaml", EXTRA)
            push = await envoy.recv()
            assert lb_policy(push) == cluster_pb2.Cluster.ROUND_ROBIN
            assert st.cache_key not in (labelled_view, GATEWAY)
            assert cp.control.context_count == 1 and cp.cache.gateways() == sorted([GATEWAY, st.cache_key])
            await envoy.close()
    run(body())


def test_view_cap_refuses_new_proxies_with_resource_exhausted(tmp_path: Path) -> None:
    async def body() -> None:
        cp = ControlPlaneUnderTest(tmp_path, XdsLimits(max_views=2))
        (cp.dir / "payments.yaml").write_text(EXTRA + "---\n" + CANARY_RULE)
        async with cp:
            first, _ = await connect(cp, labelled({"pod": "a"}))
            second, _ = await connect(cp, labelled({"pod": "b"}))
            third, err = await connect(cp, labelled({"pod": "c"}))
            assert isinstance(err, grpc.aio.AioRpcError)
            assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "--max-views" in (err.details() or "")
            assert cp.metrics.refused.labels("views")._value.get() == 1
            assert cp.control.context_count == 2
            # A proxy that shares an existing view is served.
            twin, resp = await connect(cp, labelled({"pod": "a"}, node_id="twin"))
            assert not isinstance(resp, grpc.aio.AioRpcError)
            # Once both proxies of a view have left, a new one fits.
            await first.close()
            await twin.close()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + CLOSE_TIMEOUT_S
            while cp.control.context_count > 1 and loop.time() < deadline:
                await asyncio.sleep(0.02)
            again, resp = await connect(cp, labelled({"pod": "c"}))
            assert not isinstance(resp, grpc.aio.AioRpcError) and cp.control.context_count == 2
            for e in (second, third, again):
                await e.close()
    run(body())


def test_node_metadata_cap(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path, XdsLimits(max_node_metadata_bytes=1024)) as cp:
            envoy, err = await connect(cp, labelled({"big": "x" * 2000}))
            assert isinstance(err, grpc.aio.AioRpcError)
            assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "--max-node-metadata-bytes" in (err.details() or "")
            assert cp.metrics.refused.labels("node_metadata")._value.get() == 1
            ok, resp = await connect(cp, labelled({"small": "x" * 100}))
            assert not isinstance(resp, grpc.aio.AioRpcError)
            await envoy.close()
            await ok.close()
    run(body())


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_subscription_cap(tmp_path: Path, delta: bool) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            limit = XdsLimits().max_resource_names
            bystander = FakeEnvoy(cp.channel(), delta=delta)
            await bystander.send(node=node(node_id="bystander"), type_url=LISTENER)
            await bystander.recv()
            envoy = FakeEnvoy(cp.channel(), delta=delta)
            # Within the limit, across types: served.
            names = [f"n{i}" for i in range(limit - 1)]
            if delta:
                await envoy.send(node=node(), type_url=ENDPOINT, resource_names_subscribe=names)
            else:
                await envoy.send(node=node(), type_url=ENDPOINT, resource_names=names)
            await envoy.recv()
            # Two more names on another type: one too many.
            if delta:
                await envoy.send(type_url=CLUSTER, resource_names_subscribe=[API_CLUSTER, "more"])
            else:
                await envoy.send(type_url=CLUSTER, resource_names=[API_CLUSTER, "more"])
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await envoy.recv()
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "--max-resource-names" in (err.value.details() or "")
            assert cp.metrics.refused.labels("resource_names")._value.get() == 1
            # The other stream is still served.
            await bystander.send(type_url=CLUSTER)
            assert (await bystander.recv()).type_url == CLUSTER
            await envoy.close()
            await bystander.close()
    run(body())


def test_delta_initial_versions_are_capped(tmp_path: Path) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path, XdsLimits(max_resource_names=50)) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=True)
            await envoy.send(node=node(), type_url=CLUSTER,
                             initial_resource_versions={f"gone-{i}": "v" for i in range(51)})
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await envoy.recv()
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            await envoy.close()
    run(body())
