"""What a reload logs, with the control plane in process, a real Envoy connected and real files
edited: the objects added/changed/removed and the translation path, what was pushed and to how
many proxies, each new input error once with file:line, field and reason, and its resolution."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from ..e2e.harness import Scenario

pytestmark = pytest.mark.envoy

EXTRA_ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: extra, namespace: e2e}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs: [{{name: web, port: 80}}]
"""
REASON = "unsupported value 'Prefix': must be one of Exact, PathPrefix, RegularExpression"


async def logged(caplog: pytest.LogCaptureFixture, after: int, check: Callable[[str], bool],
                 timeout: float = 10.0) -> tuple[int, logging.LogRecord]:
    """The first record from index `after` on whose message passes `check` (bounded wait)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for i, rec in enumerate(caplog.records[after:], after):
            if check(rec.getMessage()):
                return i, rec
        assert loop.time() < deadline, "not logged:\n" + "\n".join(r.getMessage() for r in caplog.records[after:])
        await asyncio.sleep(0.05)


def test_reloads_log_changes_pushes_and_new_input_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    async def body() -> None:
        sc = Scenario(tmp_path, delta=True)
        try:
            await sc.start()
            _, rec = await logged(caplog, 0, lambda m: m.startswith("initial load:"))
            assert rec.getMessage().startswith(
                "initial load: 7 objects (2 EndpointSlice, 1 Gateway, 2 HTTPRoute, 2 Service), 0 input error(s); "
                "full translation in ")

            # An edit that adds a route: named, the path taken, and what reached the one Envoy.
            start = len(caplog.records)
            sc.write({"extra.yaml": EXTRA_ROUTE.format(path="/extra")})
            i, rec = await logged(caplog, start, lambda m: m.startswith("reload:"))
            assert rec.name == "meshgate.reload"
            assert rec.getMessage().startswith("reload: added HTTPRoute e2e/extra; full translation in ")
            _, rec = await logged(caplog, i, lambda m: m.startswith("push:"))
            # RDS only: a cluster's metadata names what made it, not the routes that use it.
            assert rec.getMessage() == "push: RDS for gateway e2e/gw; woke 1 of 1 connected proxies"

            # An edit with an invalid field: file:line, object, field and reason, once.
            routes = sc.dir / "routes.yaml"
            good = routes.read_text()
            bad = good.replace("type: PathPrefix", "type: Prefix")
            line = next(n for n, text in enumerate(bad.splitlines(), 1) if "Prefix, value: /api" in text)
            start = len(caplog.records)
            sc.write({"routes.yaml": bad})
            _, rec = await logged(caplog, start, lambda m: m.startswith("input error:"))
            assert rec.levelno == logging.WARNING
            assert rec.getMessage() == (f"input error: {routes}:{line}: HTTPRoute e2e/api "
                                        f"spec.rules[0].matches[0].path.type: {REASON}")
            assert rec.input_error["field"] == "spec.rules[0].matches[0].path.type"  # type: ignore[attr-defined]
            assert rec.input_error["reason"] == REASON  # type: ignore[attr-defined]

            # Another reload: the error is not repeated.
            start = len(caplog.records)
            sc.write({"extra.yaml": EXTRA_ROUTE.format(path="/more")})
            await logged(caplog, start, lambda m: m.startswith("reload: changed HTTPRoute e2e/extra;"))
            await asyncio.sleep(0.3)  # anything the reload logs after its reload line
            assert not [r for r in caplog.records[start:] if "input error" in r.getMessage()]

            # Fixed: said once.
            start = len(caplog.records)
            sc.write({"routes.yaml": good})
            _, rec = await logged(caplog, start, lambda m: m.startswith("input error resolved:"))
            assert rec.getMessage() == (f"input error resolved: {routes}:{line}: HTTPRoute e2e/api "
                                        f"spec.rules[0].matches[0].path.type: {REASON}")
            assert (await sc.until(lambda r: r.status == 200, "/more")).status == 200
        finally:
            await sc.stop()

    asyncio.run(asyncio.wait_for(body(), 120))
