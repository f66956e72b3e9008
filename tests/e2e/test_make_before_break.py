"""Route edits under traffic through a real Envoy cost no request (make-before-break, Delta and
State of the World): routes move between Services no other route uses, and routes are added to
and removed from a Service already in use, every 1.5 s for 60 s at 125 requests per second, at
least 100 of them answered each second (tests/e2e/churn.py). Not one request may fail, and no cluster may be left warming until its
initial EDS fetch times out. bench/make_before_break.py measures the same at 200 requests per
second against the code before make-before-break.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .churn import churn, prepare
from .harness import Scenario

pytestmark = pytest.mark.envoy

SECONDS = 60.0
RATE = 125.0
MIN_RATE = 100.0  # the floor: at least 100 requests per second over the 60 s
INTERVAL = 1.5


@pytest.fixture(params=["delta", "sotw"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


def test_route_edits_under_traffic_cost_no_request(tmp_path: Path, protocol: str) -> None:
    async def body() -> None:
        sc = Scenario(tmp_path, delta=protocol == "delta")
        try:
            prepare(sc)
            await sc.start()
            result = await churn(sc, SECONDS, RATE, INTERVAL)
        finally:
            await sc.stop()
        print(result.line())
        assert result.edits >= 30
        assert result.requests >= MIN_RATE * SECONDS, "the request loop fell behind: " + result.line()
        assert result.failed == 0, f"{result.line()}; by path and status {result.statuses}; first {result.samples}"
        assert result.settled, "the proxy did not ACK the last edit: " + result.line()
        assert result.init_fetch_timeouts == 0 and result.warming_clusters == 0, result.line()

    asyncio.run(asyncio.wait_for(body(), 240))
