"""Requests a hostile or broken client controls end its stream with a gRPC status that says
what is wrong (never UNKNOWN and a traceback), and the server goes on serving the others.
NACK logging is rate-limited per stream and type."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import grpc
import pytest

from meshgate.xds.limits import MAX_NAME_BYTES
from meshgate.xds.resources import CLUSTER, ENDPOINT, LISTENER, PUSH_ORDER

from .harness import API_CLUSTER, WEB_CLUSTER, ControlPlaneUnderTest, FakeEnvoy, node
from .test_protocol import _services_with, web_slice


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


BAD_TYPES = ["type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", "", "garbage"]


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
@pytest.mark.parametrize("type_url", BAD_TYPES, ids=["unserved", "empty", "garbage"])
def test_unknown_type_url_is_invalid_argument(tmp_path: Path, delta: bool, type_url: str) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            # A proxy already connected, subscribed to EDS.
            good = FakeEnvoy(cp.channel(), delta=delta)
            await good.send(node=node(node_id="good"), type_url=CLUSTER)
            cds = await good.recv()
            names = [API_CLUSTER, WEB_CLUSTER]
            if delta:
                await good.send(type_url=CLUSTER, response_nonce=cds.nonce)
                await good.send(type_url=ENDPOINT, resource_names_subscribe=names)
            else:
                await good.send(type_url=CLUSTER, version_info=cds.version_info, response_nonce=cds.nonce)
                await good.send(type_url=ENDPOINT, resource_names=names)
            eds = await good.recv()
            # The bad one: on its first request, and on a later one.
            for first in (True, False):
                bad = FakeEnvoy(cp.channel(), delta=delta)
                if first:
                    await bad.send(node=node(node_id="bad"), type_url=type_url)
                else:
                    await bad.send(node=node(node_id="bad"), type_url=LISTENER)
                    await bad.recv()
                    await bad.send(type_url=type_url)
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await bad.recv()
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                details = err.value.details() or ""
                assert (repr(type_url) if type_url else "without type_url") in details
                assert all(t in details for t in PUSH_ORDER)
                await bad.close()
            assert cp.metrics.refused.labels("type_url")._value.get() == 2
            # The connected proxy is still served: an endpoint change reaches it.
            if delta:
                await good.send(type_url=ENDPOINT, response_nonce=eds.nonce)
            else:
                await good.send(type_url=ENDPOINT, resource_names=names, version_info=eds.version_info,
                                response_nonce=eds.nonce)
            await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.17")))
            assert (await good.recv()).type_url == ENDPOINT
            await good.close()
    run(body())


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_other_bad_fields_are_clear_statuses(tmp_path: Path, delta: bool) -> None:
    long_name = "n" * (MAX_NAME_BYTES + 1)
    cases = [
        # (first request fields, expected code, words in the details, refusal reason)
        ({"type_url": CLUSTER}, grpc.StatusCode.INVALID_ARGUMENT, "must carry the node", "node"),
        ({"node": node(gateway="no-slash"), "type_url": CLUSTER}, grpc.StatusCode.INVALID_ARGUMENT,
         "namespace/name", "node"),
        ({"node": node(node_id=long_name), "type_url": CLUSTER}, grpc.StatusCode.INVALID_ARGUMENT,
         "node id of", "field_length"),
        ({"node": node(), "type_url": ENDPOINT,
          ("resource_names_subscribe" if delta else "resource_names"): ["ok", long_name]},
         grpc.StatusCode.INVALID_ARGUMENT, "resource name of", "field_length"),
    ]

    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            for fields, code, words, reason in cases:
                bad = FakeEnvoy(cp.channel(), delta=delta)
                await bad.send(**fields)
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await bad.recv()
                assert err.value.code() == code, err.value
                assert words in (err.value.details() or ""), err.value.details()
                await bad.close()
            assert cp.metrics.refused.labels("node")._value.get() == 2
            assert cp.metrics.refused.labels("field_length")._value.get() == 2
            # A well-behaved proxy is served after all that.
            good = FakeEnvoy(cp.channel(), delta=delta)
            await good.send(node=node(), type_url=CLUSTER)
            assert len((await good.recv()).resources) == 2
            await good.close()
    run(body())


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_nack_logging_is_rate_limited(tmp_path: Path, delta: bool, caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]  # the server's clock, moved by hand: no test timing
    interval = 60.0

    def nack_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("NACK from")]

    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path, nack_log_interval=interval, clock=lambda: now[0]) as cp:
            envoy = FakeEnvoy(cp.channel(), delta=delta)
            await envoy.send(node=node(), type_url=LISTENER)
            lds = await envoy.recv()
            for i in range(500):
                await envoy.nack(LISTENER, lds.nonce, f"listener rejected ({i})")
            (st,) = cp.registry.all()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while st.types[LISTENER].nacks < 500 and loop.time() < deadline:
                await asyncio.sleep(0.01)
            ts = st.types[LISTENER]
            # Every NACK is counted and the last one kept; only the first is logged.
            assert ts.nacks == 500 and ts.nack == "listener rejected (499)"
            assert cp.metrics.nacks.labels("LDS")._value.get() == 500
            assert len(nack_lines()) == 1 and "listener rejected (0)" in nack_lines()[0]
            # An interval later, the next one is logged with the number left out.
            now[0] += interval
            await envoy.nack(LISTENER, lds.nonce, "listener rejected again")
            while ts.nacks < 501 and loop.time() < deadline:
                await asyncio.sleep(0.01)
            lines = nack_lines()
            assert len(lines) == 2 and "listener rejected again" in lines[1] and "499 more NACK(s)" in lines[1]
            # A huge error detail is kept and logged shortened.
            await envoy.nack(LISTENER, lds.nonce, "x" * 1_000_000)
            while ts.nacks < 502 and loop.time() < deadline:
                await asyncio.sleep(0.01)
            assert len(ts.nack) < 5000 and "more characters" in ts.nack
            await envoy.close()

    with caplog.at_level(logging.INFO, logger="meshgate.xds"):
        run(body())
