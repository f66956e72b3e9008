"""EndpointSlice conditions with a real Envoy: traffic goes where kube-proxy would send it.

kube-proxy's CategorizeEndpoints uses the ready endpoints; when none is ready it falls back to
the serving-terminating ones (ready=false, serving=true, terminating=true), so a Service whose
pods are all shutting down keeps answering until they are gone. Not-ready endpoints that are
not serving-terminating never get traffic while a ready one exists.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .harness import Scenario, service_yaml

pytestmark = pytest.mark.envoy

SERVING_TERMINATING = "  conditions: {ready: false, serving: true, terminating: true}\n"
NOT_READY = "  conditions: {ready: false, serving: false, terminating: false}\n"


def _endpoint(address: str, conditions: str) -> str:
    return f'- addresses: ["{address}"]\n{conditions}  targetRef: {{kind: Pod, name: web-{address.rsplit(".", 1)[1]}}}\n'


def run(coro) -> None:
    asyncio.run(asyncio.wait_for(coro, 120))


async def _with(tmp: Path, body) -> None:
    sc = Scenario(tmp, delta=True)
    try:
        await sc.start()
        await body(sc)
    finally:
        await sc.stop()


def test_serving_terminating_endpoints_serve_when_none_is_ready(tmp_path: Path) -> None:
    async def body(sc: Scenario) -> None:
        # Every serving web pod is terminating; one of them is new, so that the change is seen
        # to land when it answers. Three more pods are not ready and have nothing listening:
        # kube-proxy sends them nothing, so no request may fail.
        new = f"{sc.base}.14"
        sc.start_echo(new, 9002, "web-14")
        dead = [_endpoint(f"{sc.base}.{i}", NOT_READY) for i in (15, 16, 17)]
        sc.write({"web.yaml": service_yaml("web", 80, 9002, [_endpoint(sc.web[0], SERVING_TERMINATING),
                                                              _endpoint(new, SERVING_TERMINATING), *dead])})
        reply = await sc.until(lambda r: r.pod == "web-14", "/")
        assert (reply.status, reply.pod) == (200, "web-14"), "the serving-terminating endpoints get no traffic"
        replies = [await sc.request("/") for _ in range(40)]
        failed = [r.status for r in replies if r.status != 200]
        assert failed == []  # kube-proxy's fallback: every request is served
        assert {r.pod for r in replies} == {"web-13", "web-14"}
    run(_with(tmp_path, body))


def test_ready_endpoints_only_while_one_is_ready(tmp_path: Path) -> None:
    async def body(sc: Scenario) -> None:
        # web-14 is ready and new (the change is seen to land when it answers); web-13 is
        # terminating, web-15 and web-16 are not ready: they answer, but kube-proxy sends them
        # nothing while a ready endpoint exists.
        ready = f"{sc.base}.14"
        others = [f"{sc.base}.15", f"{sc.base}.16"]
        for a in [ready, *others]:
            sc.start_echo(a, 9002, f"web-{a.rsplit('.', 1)[1]}")
        sc.write({"web.yaml": service_yaml("web", 80, 9002, [
            _endpoint(sc.web[0], SERVING_TERMINATING), _endpoint(ready, "  conditions: {ready: true}\n"),
            *(_endpoint(a, NOT_READY) for a in others)])})
        reply = await sc.until(lambda r: r.pod == "web-14", "/")
        assert reply.pod == "web-14"
        await asyncio.sleep(0.3)  # any older assignment is gone by now
        pods = [(await sc.request("/")).pod for _ in range(40)]
        assert set(pods) == {"web-14"}
    run(_with(tmp_path, body))
