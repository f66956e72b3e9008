"""When a change passed each step on its way to the proxies, for bench/propagation.py: the
reload log's JSON fields `received` (the change reached the controller), `flushed` (the debounce
let it through) and `applied`, and the gauge of the last push time per xDS type."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import pytest

from meshgate.providers.files import ChangeSet, FileProvider
from meshgate.resources.meta import ObjectKey
from meshgate.runtime.controller import ControlPlane
from meshgate.runtime.metrics import Metrics
from meshgate.xds.cache import SnapshotCache
from meshgate.xds.resources import ROUTE

from ..e2e.harness import gateway_yaml

ROUTE_YAML = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: extra, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: web, port: 80}]
"""


def reloads(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [r.reload for r in caplog.records if hasattr(r, "reload")]  # type: ignore[attr-defined]


def test_a_submitted_change_logs_when_it_was_received_flushed_and_applied(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="meshgate.reload")
    (tmp_path / "gateway.yaml").write_text(gateway_yaml("127.0.0"))
    control = ControlPlane(FileProvider([tmp_path]), SnapshotCache(), Metrics())
    control.load()
    (initial,) = reloads(caplog)
    assert "received" not in initial and "flushed" not in initial and initial["applied"] <= time.time()

    async def body() -> None:
        (tmp_path / "extra.yaml").write_text(ROUTE_YAML)
        changes = control.provider.reload(tmp_path / "extra.yaml")
        assert changes
        control.submit(changes)
        deadline = asyncio.get_running_loop().time() + 10
        while len(reloads(caplog)) < 2:
            assert asyncio.get_running_loop().time() < deadline, "the change was not applied"
            await asyncio.sleep(0.01)

    before = time.time()
    asyncio.run(body())
    after = time.time()
    fields = reloads(caplog)[1]
    assert fields["added"] == ["HTTPRoute e2e/extra"]
    assert before <= fields["received"] <= fields["flushed"] <= fields["applied"] <= after
    assert fields["applied"] - fields["flushed"] >= fields["seconds"]

    # Applied directly (not through submit): no step before the apply to tell.
    control.apply(ChangeSet(deletes=[ObjectKey("HTTPRoute", "e2e", "extra")]))
    last = reloads(caplog)[2]
    assert last["removed"] == ["HTTPRoute e2e/extra"] and "received" not in last and "flushed" not in last


def test_the_last_push_time_of_each_type_is_a_gauge() -> None:
    metrics = Metrics(envoy=lambda: "")
    before = time.time()
    metrics.pushed(ROUTE, 0.001)
    after = time.time()
    m = re.search(r'^meshgate_xds_last_push_timestamp_seconds\{type="RDS"\} (\S+)$',
                  metrics.exposition().decode(), re.MULTILINE)
    assert m is not None
    assert before <= float(m.group(1)) <= after
