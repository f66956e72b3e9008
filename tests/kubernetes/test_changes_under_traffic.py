"""Config changes through the API while traffic flows cost no request: an HTTPRoute's backend is
switched between two Services twenty times through the API while a client sends requests without
pause to the provisioned Envoy; every answer is a 200 from one of the two backends, and both
answered (the edits took effect). Make-before-break across the whole Kubernetes path: watch,
translation, xDS, Envoy."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path

from ..e2e.harness import get
from .harness import (
    NAMESPACE,
    PORT,
    cluster,
    create_web,
    echo,
    endpoint_slice,
    free_port,
    kubelet,
    run,
    service,
    serving,
)

EDITS = 20


def test_route_edits_through_the_api_under_traffic_lose_no_request(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cluster(tmp_path) as c:
            with echo(f"{c.base}.11", 9001, "web-1"), echo(f"{c.base}.12", 9001, "api-1"):
                await create_web(c)
                for obj in [*service("api", 9001), endpoint_slice("api-1", "api", 9001, [f"{c.base}.12"])]:
                    await c.create(obj)
                async with serving(c, free_port()), kubelet(c):
                    assert (await c.until_reply("/", lambda r: r.status == 200)).pod == "web-1"
                    answers: Counter[str] = Counter()
                    stop = threading.Event()

                    def traffic() -> None:
                        for _ in range(100_000):  # bounded; ends when the edits are done
                            if stop.is_set():
                                return
                            reply = get(f"http://{c.base}.1:{PORT}/")
                            answers[reply.pod if reply.status == 200 else f"status {reply.status}"] += 1

                    client = threading.Thread(target=traffic, daemon=True)
                    client.start()
                    try:
                        for i in range(EDITS):
                            backend = "api" if i % 2 == 0 else "web"
                            await c.patch("HTTPRoute", NAMESPACE, "web", {"spec": {"rules": [
                                {"backendRefs": [{"name": backend, "port": 80}]}]}})
                            await asyncio.sleep(0.3)
                    finally:
                        stop.set()
                        await asyncio.get_running_loop().run_in_executor(None, client.join, 30)
                    failed = {k: n for k, n in answers.items() if k not in ("web-1", "api-1")}
                    assert not failed, f"failed requests during {EDITS} edits: {failed} (of {sum(answers.values())})"
                    assert answers["web-1"] and answers["api-1"], answers

    run(scenario())
