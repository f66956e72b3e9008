"""Watches as api-concepts "Efficient detection of changes" and "Watch bookmarks" describe them:
list then watch from the list's resourceVersion, in order; bookmarks; 410 Expired after the
history is compacted; timeoutSeconds; selector transitions; dropped watches; and
kubernetes-asyncio's own Watch against the emulator."""

from __future__ import annotations

from pathlib import Path

from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kubeapi import running_emulator

from .helpers import api_client, raw_watch, request, run

CMS = "/api/v1/namespaces/default/configmaps"


def cm(name: str, **labels: str) -> dict[str, object]:
    return {"metadata": {"name": name, "labels": labels}}


def test_watch_from_list_version_sees_later_changes_in_order(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", CMS, cm("before"))
            _, listed = await request(em, "GET", CMS)
            list_rv = listed["metadata"]["resourceVersion"]
            await request(em, "POST", CMS, cm("a"))
            await request(em, "PATCH", f"{CMS}/a", {"data": {"k": "v"}}, content_type="application/merge-patch+json")
            await request(em, "DELETE", f"{CMS}/before")
            await request(em, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "other-kind"}})
            async with raw_watch(em, CMS, resourceVersion=list_rv) as stream:
                first = [await stream.next() for _ in range(3)]
                assert [(e["type"], e["object"]["metadata"]["name"]) for e in first] == [
                    ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "before")]
                rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in first]
                assert rvs == sorted(rvs) and rvs[0] > int(list_rv)
                assert first[0]["object"]["apiVersion"] == "v1" and first[0]["object"]["kind"] == "ConfigMap"
                await request(em, "POST", CMS, cm("live"))
                live = await stream.next()
                assert live is not None and (live["type"], live["object"]["metadata"]["name"]) == ("ADDED", "live")

    run(body)


def test_watch_without_version_starts_with_current_state(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", CMS, cm("a"))
            await request(em, "DELETE", f"{CMS}/a")
            await request(em, "POST", CMS, cm("b"))
            for rv in ({}, {"resourceVersion": "0"}):
                async with raw_watch(em, CMS, **rv) as stream:
                    event = await stream.next()
                    assert event is not None and (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "b")

    run(body)


def test_bookmarks(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path, bookmark_interval=0.05) as em:
            await request(em, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}})
            _, listed = await request(em, "GET", CMS)
            async with raw_watch(em, CMS, resourceVersion=listed["metadata"]["resourceVersion"],
                                 allowWatchBookmarks="true") as stream:
                await request(em, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "t"}})
                event = await stream.next()
                assert event is not None and event["type"] == "BOOKMARK"
                assert event["object"] == {"kind": "ConfigMap", "apiVersion": "v1",
                                           "metadata": {"resourceVersion": event["object"]["metadata"]["resourceVersion"]}}
                assert int(event["object"]["metadata"]["resourceVersion"]) >= int(listed["metadata"]["resourceVersion"])

    run(body)


def test_bookmark_on_demand_carries_the_latest_version(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path, bookmark_interval=3600) as em:
            _, listed = await request(em, "GET", CMS)
            async with raw_watch(em, CMS, resourceVersion=listed["metadata"]["resourceVersion"],
                                 allowWatchBookmarks="true") as stream:
                _, secret = await request(em, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}})
                assert em.emulator.bookmark_now() == 1
                event = await stream.next()
                assert event is not None and event["type"] == "BOOKMARK"
                assert event["object"]["metadata"]["resourceVersion"] == secret["metadata"]["resourceVersion"]

    run(body)


def test_compacted_history_gives_410(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            _, listed = await request(em, "GET", CMS)
            old_rv = listed["metadata"]["resourceVersion"]
            await request(em, "POST", CMS, cm("a"))
            em.emulator.compact()
            async with raw_watch(em, CMS, resourceVersion=old_rv) as stream:
                error = await stream.next()
                assert error is not None and error["type"] == "ERROR"
                assert {k: error["object"][k] for k in ("kind", "code", "reason")} == {
                    "kind": "Status", "code": 410, "reason": "Expired"}
                assert await stream.next() is None  # and the stream ends
            core = client.CoreV1Api(api)
            try:
                async for _ in watch.Watch().stream(core.list_namespaced_config_map, "default",
                                                    resource_version=old_rv, timeout_seconds=5):
                    raise AssertionError("an event from an expired resourceVersion")
            except ApiException as exc:
                assert exc.status == 410
            _, relisted = await request(em, "GET", CMS)
            async with raw_watch(em, CMS, resourceVersion=relisted["metadata"]["resourceVersion"]) as stream:
                await request(em, "POST", CMS, cm("b"))
                event = await stream.next()
                assert event is not None and event["type"] == "ADDED"

    run(body)


def test_history_is_bounded(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path, history_limit=3) as em:
            _, listed = await request(em, "GET", CMS)
            for name in "abcd":
                await request(em, "POST", CMS, cm(name))
            async with raw_watch(em, CMS, resourceVersion=listed["metadata"]["resourceVersion"]) as stream:
                error = await stream.next()
                assert error is not None and error["object"]["code"] == 410

    run(body)


def test_timeout_seconds_ends_the_stream(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, raw_watch(em, CMS, timeoutSeconds="1") as stream:
            assert await stream.next() is None

    run(body)


def test_selector_transitions(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", CMS, cm("a", app="other"))
            _, listed = await request(em, "GET", CMS, params={"labelSelector": "app=web"})
            assert listed["items"] == []
            async with raw_watch(em, CMS, resourceVersion=listed["metadata"]["resourceVersion"],
                                 labelSelector="app=web") as stream:
                merge = "application/merge-patch+json"
                await request(em, "PATCH", f"{CMS}/a", {"metadata": {"labels": {"app": "web"}}}, content_type=merge)
                await request(em, "PATCH", f"{CMS}/a", {"data": {"k": "v"}}, content_type=merge)
                await request(em, "PATCH", f"{CMS}/a", {"metadata": {"labels": {"app": "gone"}}}, content_type=merge)
                events = [await stream.next() for _ in range(3)]
                assert [e["type"] for e in events if e] == ["ADDED", "MODIFIED", "DELETED"]

    run(body)


def test_dropped_watches_end(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", CMS, cm("a"))
            async with raw_watch(em, CMS) as stream:
                added = await stream.next()
                assert added is not None and added["type"] == "ADDED"
                assert em.emulator.drop_watches() == 1
                assert await stream.next() is None

    run(body)


def test_kubernetes_asyncio_watch_stream(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em, api_client(em.kubeconfig) as api:
            core = client.CoreV1Api(api)
            listed = await core.list_namespaced_config_map("default")
            await core.create_namespaced_config_map("default", cm("a"))
            await core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
            seen = []
            w = watch.Watch()
            async for event in w.stream(core.list_namespaced_config_map, "default",
                                        resource_version=listed.metadata.resource_version, timeout_seconds=5,
                                        allow_watch_bookmarks=True):
                seen.append((event["type"], event["object"].metadata.name, event["object"].data))
                if len(seen) == 2:
                    w.stop()
            assert seen == [("ADDED", "a", None), ("MODIFIED", "a", {"k": "v"})]
            assert w.resource_version == (await core.read_namespaced_config_map("a", "default")).metadata.resource_version

    run(body)


def test_send_initial_events_ends_with_an_annotated_bookmark(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path) as em:
            await request(em, "POST", CMS, cm("a"))
            async with raw_watch(em, CMS, sendInitialEvents="true", resourceVersionMatch="NotOlderThan",
                                 allowWatchBookmarks="true") as stream:
                events = await stream.until(lambda e: e["type"] == "BOOKMARK")
                assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
                assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}

    run(body)


def test_a_watcher_that_falls_behind_is_closed(tmp_path: Path) -> None:
    async def body() -> None:
        async with running_emulator(tmp_path, watcher_queue_limit=2) as em:
            _, listed = await request(em, "GET", CMS)
            async with raw_watch(em, CMS, resourceVersion=listed["metadata"]["resourceVersion"]) as stream:
                # Three changes in one go, no await between them: the watcher's queue overflows.
                configmaps = em.emulator.registry.lookup("", "v1", "configmaps")
                assert configmaps is not None
                for name in "abc":
                    em.emulator.verbs.create(configmaps, "default", cm(name))
                assert await stream.next() is None

    run(body)
