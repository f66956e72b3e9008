"""Proxy convergence: once per proxy and change, the time from the change reaching meshgate to
the proxy having ACKed everything it was sent for it (meshgate_proxy_convergence_seconds, as
Istio's pilot_proxy_convergence_time). A proxy's first config is not a convergence; a proxy that
NACKs has not converged until a later change is ACKed, measured from the change it rejected."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from google.rpc import status_pb2

from meshgate.xds.resources import ENDPOINT

from .harness import ControlPlaneUnderTest
from .test_make_before_break import Proxy
from .test_protocol import _services_with, web_slice


async def _nack(p: Proxy, resp) -> None:  # type: ignore[no-untyped-def]
    """Reject a response, keeping the subscription (a SotW request names it whole)."""
    error = status_pb2.Status(code=3, message="rejected by the test")
    if p.delta:
        await p.envoy.send(type_url=resp.type_url, response_nonce=resp.nonce, error_detail=error)
    else:
        await p.envoy.send(type_url=resp.type_url, response_nonce=resp.nonce, error_detail=error,
                           version_info=p.acked.get(resp.type_url, ""), resource_names=p.names[resp.type_url])


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _count(cp: ControlPlaneUnderTest) -> float:
    return cp.metrics.registry.get_sample_value("meshgate_proxy_convergence_seconds_count") or 0.0


def _sum(cp: ControlPlaneUnderTest) -> float:
    return cp.metrics.registry.get_sample_value("meshgate_proxy_convergence_seconds_sum") or 0.0


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_one_convergence_per_proxy_and_change(tmp_path: Path, delta: bool) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            proxies = [await Proxy.connect(cp, delta) for _ in range(2)]
            assert _count(cp) == 0  # the first config of a proxy is not a convergence
            assert await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.13", "127.0.0.14"))) \
                == "endpoints"
            sent = [await p.recv(ENDPOINT) for p in proxies]
            await asyncio.sleep(0.1)
            assert _count(cp) == 0  # sent, not yet ACKed
            for p, resp in zip(proxies, sent):
                await p.ack(resp)
            for _ in range(100):  # the server reads the ACKs on its own
                if _count(cp) == 2:
                    break
                await asyncio.sleep(0.02)
            assert _count(cp) == 2
            assert _sum(cp) > 0
            for p in proxies:
                await p.envoy.expect_nothing()
                await p.envoy.close()
    run(body())


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_a_nacked_change_converges_with_the_next_one_acked_timed_from_the_first(tmp_path: Path,
                                                                                delta: bool) -> None:
    async def body() -> None:
        async with ControlPlaneUnderTest(tmp_path) as cp:
            p = await Proxy.connect(cp, delta)
            await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.13", "127.0.0.14")))
            await _nack(p, await p.recv(ENDPOINT))
            await asyncio.sleep(0.3)
            assert _count(cp) == 0
            await cp.change_file("services.yaml", _services_with(web_slice("127.0.0.15")))
            await p.ack(await p.recv(ENDPOINT))
            for _ in range(100):
                if _count(cp) == 1:
                    break
                await asyncio.sleep(0.02)
            assert _count(cp) == 1
            assert _sum(cp) >= 0.3  # from the rejected change, not the accepted one
            await p.envoy.close()
    run(body())
