"""The emulator counts resource requests per user, method and path (how tests and benchmarks count
status writes per replica), accepts the tokens of users added to it, and refuses unknown ones."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.kubeapi import emulator_process, running_emulator
from tests.kubeapi.kubeconfig import write_kubeconfig

from .helpers import api_client, request, run

CMS = "/api/v1/namespaces/default/configmaps"


def test_requests_are_counted_per_user_method_and_path(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            emulator = em.emulator
            emulator.add_user("other-token", "replica-b")
            await request(em, "POST", CMS, {"metadata": {"name": "a"}})
            await request(em, "PATCH", f"{CMS}/a", {"data": {"k": "v"}}, content_type="application/merge-patch+json")
            other = write_kubeconfig(tmp_path / "other", em.url, "other-token")
            async with api_client(other) as api:
                for _ in range(2):
                    await api.call_api(f"{CMS}/a", "GET", auth_settings=["BearerToken"], _preload_content=False)
            assert emulator.requests[("admin", "POST", CMS)] == 1
            assert emulator.requests[("replica-b", "GET", f"{CMS}/a")] == 2
            assert emulator.count(methods=("PATCH", "PUT"), suffix="/a") == 1
            assert emulator.count(user="replica-b") == 2
            assert emulator.count(methods=("PATCH",), user="replica-b") == 0
            # Discovery is not a resource request; an unknown token is refused and not counted.
            await request(em, "GET", "/api/v1")
            async with aiohttp.ClientSession() as session, session.get(
                    em.url + CMS, headers={"Authorization": "Bearer nobody"}) as response:
                assert response.status == 401
            assert sum(emulator.requests.values()) == 4

    run(body)


def test_a_subprocess_emulator_reports_its_counts(tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator_process(tmp_path) as proc:
            async with api_client(proc.kubeconfig) as api:
                await api.call_api(CMS, "GET", auth_settings=["BearerToken"], _preload_content=False)
            counts = await proc.control("requests", method="GET")
            assert counts == [{"user": "admin", "method": "GET", "path": CMS, "count": 1}]

    run(body)
