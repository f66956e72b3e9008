"""Regexes and Envoy's RE2 program size limit, with a real Envoy.

Envoy refuses a regex whose RE2 program is over `re2.max_program_size.error_level` (100 by
default), and with it the route configuration of the whole listener. meshgate's bootstraps
raise the limit to 32768 (as Istio's do), and the loader refuses bigger programs at load time,
naming the file, line and field, so the last good config stays and Envoy never NACKs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .harness import Scenario

pytestmark = pytest.mark.envoy


def regex_route(first: str, second: str) -> str:
    """An HTTPRoute sending two regex paths to the api Service (everything else goes to web)."""
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: regexes, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: RegularExpression, value: '{first}'}}}}]
    backendRefs: [{{name: api, port: 80}}]
  - matches: [{{path: {{type: RegularExpression, value: '{second}'}}}}]
    backendRefs: [{{name: api, port: 80}}]
"""


LETTERS = "/letters/" + "a" * 200  # matches /letters/[a-z]{200}: program size 213
UNICODE = "/unicode/" + "x" * 20  # matches /unicode/\p{L}{20}: program size 23,933


def test_big_regexes_are_served_and_too_big_ones_refused_at_load(tmp_path: Path) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        try:
            await sc.start()
            assert sc.runner is not None
            # Over Envoy's default limit, within meshgate's: served.
            sc.write({"regexes.yaml": regex_route("/letters/[a-z]{200}", r"/unicode/\p{L}{20}")})
            assert (await sc.until(lambda r: r.pod == "api-11", LETTERS)).pod == "api-11"
            assert (await sc.until(lambda r: r.pod == "api-11", UNICODE)).pod == "api-11"
            assert (await sc.request("/letters/short")).pod == "web-13"  # no match: the catch-all route
            stream = sc.runner.registry.all()[0]
            assert not any(t.nacks for t in stream.types.values())

            # Over 32768: refused at load, with where and why; the last good route stays.
            sc.write({"regexes.yaml": regex_route("/letters/[a-z]{200}", r"/unicode/\p{L}{100}")})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while not sc.runner.control.errors and loop.time() < deadline:
                await asyncio.sleep(0.05)
            (error,) = sc.runner.control.errors
            assert (Path(error.file).name, error.line, error.field) == (
                "regexes.yaml", 9, "spec.rules[1].matches[0].path.value")
            assert "regular expression too complex: program size 119613 over 32768" in error.reason
            await asyncio.sleep(0.5)  # what a push would have needed: none was made
            assert (await sc.request(UNICODE)).pod == "api-11"
            assert (await sc.request(LETTERS)).pod == "api-11"
            assert not any(t.nacks for t in stream.types.values())
        finally:
            await sc.stop()
    asyncio.run(asyncio.wait_for(body(), 120))
