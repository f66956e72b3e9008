"""Restarts keep objects and resourceVersions (in process, and across processes through the
state file), a watch resumes after one, and the standalone emulator works over HTTPS with its
kubeconfig and its /emulator/ controls."""

from __future__ import annotations

from pathlib import Path

from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubeapi import emulator_process, running_emulator

from .helpers import api_client, raw_watch, request, run

CMS = "/api/v1/namespaces/default/configmaps"


def test_in_process_restart_keeps_state_and_watches_resume(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            _, created = await request(em, "POST", CMS, {"metadata": {"name": "a"}})
            port = em.emulator.port
            async with raw_watch(em, CMS, resourceVersion=created["metadata"]["resourceVersion"]) as stream:
                await em.emulator.restart()
                assert await stream.next() is None  # the restart ended the watch
            assert em.emulator.port == port
            status, again = await request(em, "GET", f"{CMS}/a")
            assert status == 200 and again["metadata"] == created["metadata"]
            await request(em, "POST", CMS, {"metadata": {"name": "b"}})
            async with raw_watch(em, CMS, resourceVersion=created["metadata"]["resourceVersion"]) as stream:
                event = await stream.next()
                assert event is not None and event["object"]["metadata"]["name"] == "b"

    run(body)


def test_process_restart_with_state_file_over_https(tmp_path: Path) -> None:
    async def body() -> None:
        async with emulator_process(tmp_path, state_file=tmp_path / "state.json", tls=True) as proc:
            assert proc.url.startswith("https://127.0.0.1:")
            async with api_client(proc.kubeconfig) as api:
                core = client.CoreV1Api(api)
                created = await core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
            port = proc.port
            await proc.restart()
            assert proc.port == port
            async with api_client(proc.kubeconfig) as api:
                core = client.CoreV1Api(api)
                kept = await core.read_namespaced_config_map("a", "default")
                assert kept.metadata.uid == created.metadata.uid
                assert kept.metadata.resource_version == created.metadata.resource_version
                await proc.control("forbid", {"verb": "list", "group": "", "resource": "configmaps"})
                try:
                    await core.list_namespaced_config_map("default")
                    raise AssertionError("a forbidden list went through")
                except ApiException as exc:
                    assert exc.status == 403
                await proc.control("allow")
                await proc.control("compact")
                try:
                    async for _ in watch.Watch().stream(core.list_namespaced_config_map, "default",
                                                        resource_version=created.metadata.resource_version,
                                                        timeout_seconds=5):
                        raise AssertionError("an event from before the compaction")
                except ApiException as exc:
                    assert exc.status == 410

    run(body)
