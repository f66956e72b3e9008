"""Stopping the server with proxies connected: their streams end cleanly (status OK, so Envoy
reconnects, to another replica in a cluster), and gRPC logs no handler as cancelled mid-wait."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import grpc
import pytest

from meshgate.xds.resources import CLUSTER

from .harness import ControlPlaneUnderTest, FakeEnvoy, node


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "sotw"])
def test_streams_end_with_ok_before_the_server_stops(tmp_path: Path, delta: bool,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            assert cp.server is not None and cp.service is not None
            envoys = []
            async with cp.channel() as channel:
                for i in range(4):
                    envoy = FakeEnvoy(channel, delta)
                    await envoy.send(node=node(node_id=f"envoy-{i}"), type_url=CLUSTER)
                    await envoy.recv()
                    envoys.append(envoy)
                with caplog.at_level(logging.ERROR, logger="grpc"):
                    assert cp.service.end_streams() == 4
                    for envoy in envoys:
                        await asyncio.wait_for(envoy._reader, 10)
                        assert await envoy.call.code() == grpc.StatusCode.OK
                    await cp.server.stop(grace=1.0)
                assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
                assert cp.service.end_streams() == 0

    run(scenario())
