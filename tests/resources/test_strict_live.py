"""Strict input live, through meshgate's Runner, a real Envoy and echo backends: a misspelt field
or kind in a route file is an error, and the route keeps being served as it last was (before: a
route with `backendRef` answered 500, one with `parentRef` or `kind: HTTPRoutee` vanished: 404).
Requests run all along; not one may fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ..e2e.harness import Scenario, config
from ..e2e.test_file_operations import Traffic, until, watcher_live

pytestmark = pytest.mark.envoy

# The typos the issue names, each in the api route (the first in routes.yaml), with a header
# change in the same edit: were the edited route served, /api would answer with it.
TYPOS = [
    ("backendRefs: [{name: api", "backendRef: [{name: api", "spec.rules[0].backendRef",
     "unknown field: did you mean backendRefs?"),
    ("parentRefs: [{name: gw}]", "parentRef: [{name: gw}]", "spec.parentRef", "unknown field: did you mean parentRefs?"),
    ("kind: HTTPRoute\n", "kind: HTTPRoutee\n", "kind",
     "unknown kind HTTPRoutee in gateway.networking.k8s.io/v1: did you mean HTTPRoute?"),
]


@pytest.fixture(params=["delta", "sotw"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_typo_keeps_the_last_good_route_served(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        good = config(sc.base, sc.web)["routes.yaml"]
        control = sc.runner.control
        await watcher_live(sc)
        async with Traffic(sc) as traffic:
            await traffic.more(20)
            for old, new, field, reason in TYPOS:
                edited = config(sc.base, sc.web, api_header="edited")["routes.yaml"]
                assert edited.count(old) >= 1
                text = edited.replace(old, new, 1)
                line = text[:text.index(new)].count("\n") + 1
                sc.write({"routes.yaml": text})
                await until(lambda f=field: any(e.field == f for e in control.errors), f"the error on {field}")
                (e,) = control.errors
                assert (Path(e.file).name, e.line, e.field, e.reason) == ("routes.yaml", line, field, reason)
                assert e.severity == "error" and e.name == "api"
                await traffic.more(100)
                # The route as it last was: not the edited one, not gone.
                for _ in range(10):
                    reply = await sc.request("/api/x")
                    assert (reply.status, reply.pod, reply.header("x-routed-by")) == (200, "api-11", ["meshgate"])
                route = sc.runner.control.store.get("HTTPRoute", "e2e", "api")
                assert route is not None and route.rules[0].backend_refs
                sc.write({"routes.yaml": good})  # fixed again
                await until(lambda: control.errors == [], "the fix")
                await traffic.more(20)
            # A good edit is still applied.
            sc.write({"routes.yaml": config(sc.base, sc.web, api_header="edited")["routes.yaml"]})
            reply = await sc.until(lambda r: r.header("x-routed-by") == ["edited"], "/api/x")
            assert reply.header("x-routed-by") == ["edited"]
        assert traffic.failed == [], f"{len(traffic.failed)} of {traffic.done} requests failed: {traffic.failed[:5]}"
        assert traffic.done >= 400

    async def main() -> None:
        sc = Scenario(tmp_path, delta=protocol == "delta")
        try:
            await sc.start()
            await body(sc)
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(main(), 180))
