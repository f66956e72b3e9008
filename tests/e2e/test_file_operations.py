"""File operations under traffic, through meshgate, a real Envoy and echo backends: a rename, a
move into a new subdirectory, a duplicate copy and its deletion, a Kubernetes ConfigMap mount's
update, a symlink loop. Requests run in a loop all along; not one may fail, and what status
reports names only files that exist.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Self

import pytest

from ..meshgate_process import MeshgateProcess
from ..providers.test_watch_survives import configmap_mount
from ..system_checks import wait_until
from .harness import Scenario, config, get

pytestmark = pytest.mark.envoy
WAIT = 15.0


def run(coro) -> None:
    asyncio.run(asyncio.wait_for(coro, 180))


@pytest.fixture(params=["delta", "sotw"])
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


class Traffic:
    """Requests in a loop (/ to web, /api to api) until stopped, each one checked."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.done = 0
        self.failed: list[tuple[str, int, str]] = []
        self._stop = False
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop = True
        assert self._task is not None
        await self._task

    async def _loop(self) -> None:
        while not self._stop:
            for path, pod in (("/", "web-13"), ("/api/x", "api-11")):
                reply = await self.sc.request(path)
                if reply.status != 200 or reply.pod != pod:
                    self.failed.append((path, reply.status, reply.pod))
                self.done += 1

    async def more(self, n: int) -> None:
        """Wait until `n` more requests have been answered (bounded)."""
        target = self.done + n
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while self.done < target and loop.time() < deadline:
            await asyncio.sleep(0.02)
        assert self.done >= target, "the request loop stalled"


async def until(check: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not check():
        assert loop.time() < deadline, f"not seen within {WAIT} s: {what}"
        await asyncio.sleep(0.05)


async def watcher_live(sc: Scenario) -> None:
    """Return once the watcher applies edits (not only the start-up rescan, which would also
    pick up what the next step does)."""
    probe = sc.dir / "zz-probe.yaml"
    probe.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: probe}\n")
    await until(lambda: sc.runner.control.store.get("Namespace", "", "probe") is not None, "the probe file")
    probe.unlink()
    await until(lambda: sc.runner.control.store.get("Namespace", "", "probe") is None, "the probe's removal")


def route_file(sc: Scenario) -> str:
    """The file the served HTTPRoute api comes from."""
    route = sc.runner.control.store.get("HTTPRoute", "e2e", "api")
    return route.source.file if route is not None else ""


def named_files(errors: list[dict]) -> set[str]:
    """Every file an error names: its own, and the one a duplicate names as the first."""
    out = {e["file"] for e in errors}
    for e in errors:
        m = re.search(r"already defined at (.*):\d+;", e["reason"])
        if m:
            out.add(m.group(1))
    return out


async def debug_status(sc: Scenario) -> dict:
    """/debug/status, asked from a worker thread (the debug server runs on this loop)."""
    return await asyncio.get_running_loop().run_in_executor(None, _debug_get, sc.runner.debug.port, "/debug/status")


async def assert_only_existing_files_named(sc: Scenario) -> None:
    errors = (await debug_status(sc))["errors"]
    assert errors == [e.to_dict() for e in sc.runner.control.errors]
    for name in named_files(errors):
        assert os.path.lexists(name), f"status names {name}, which does not exist: {errors}"


def test_rename_move_and_duplicates_cost_no_request(tmp_path: Path, protocol: str) -> None:
    async def body(sc: Scenario) -> None:
        d = sc.dir
        await watcher_live(sc)
        async with Traffic(sc) as traffic:
            await traffic.more(20)
            # mv routes.yaml 00-routes.yaml
            os.rename(d / "routes.yaml", d / "00-routes.yaml")
            await until(lambda: route_file(sc).endswith("/00-routes.yaml"), "the rename")
            await traffic.more(100)
            await assert_only_existing_files_named(sc)
            assert sc.runner.control.errors == []
            # Moved into a directory created a moment before.
            (d / "sub").mkdir()
            os.rename(d / "00-routes.yaml", d / "sub" / "routes.yaml")
            await until(lambda: route_file(sc).endswith("/sub/routes.yaml"), "the move into sub/")
            await traffic.more(100)
            await assert_only_existing_files_named(sc)
            assert sc.runner.control.errors == []
            # A copy that comes first wins; the original is reported as its duplicate.
            sc.write({"000-copy.yaml": config(sc.base, sc.web, api_header="copy")["routes.yaml"]})
            await until(lambda: route_file(sc).endswith("/000-copy.yaml"), "the copy taking over")
            reply = await sc.until(lambda r: r.header("x-routed-by") == ["copy"], "/api")
            assert reply.header("x-routed-by") == ["copy"]
            await traffic.more(100)
            errors = (await debug_status(sc))["errors"]
            assert {(Path(e["file"]).name, e["name"]) for e in errors} == {("routes.yaml", "api"), ("routes.yaml", "web")}
            await assert_only_existing_files_named(sc)
            # Deleting the first of the two re-admits the second.
            (d / "000-copy.yaml").unlink()
            await until(lambda: route_file(sc).endswith("/sub/routes.yaml"), "the original re-admitted")
            reply = await sc.until(lambda r: r.header("x-routed-by") == ["meshgate"], "/api")
            assert reply.header("x-routed-by") == ["meshgate"]
            await traffic.more(100)
            await assert_only_existing_files_named(sc)
            assert sc.runner.control.errors == []
        assert traffic.failed == [], f"{len(traffic.failed)} of {traffic.done} requests failed: {traffic.failed[:5]}"
        assert traffic.done >= 420

    run(_with(tmp_path, protocol, body))


async def _with(tmp: Path, protocol: str, body, prepare: Callable[[Scenario], None] | None = None) -> None:
    sc = Scenario(tmp, delta=protocol == "delta")
    try:
        if prepare is not None:
            prepare(sc)
        await sc.start()
        await body(sc)
    finally:
        await sc.stop()


def _as_configmap(sc: Scenario) -> None:
    """Turn the scenario's directory into a ConfigMap volume holding the same files."""
    files = {f.name: f.read_text() for f in sc.dir.iterdir()}
    for f in list(sc.dir.iterdir()):
        f.unlink()
    configmap_mount(sc.dir, files, 1)


def test_a_configmap_mount_update_is_served_without_a_failed_request(tmp_path: Path) -> None:
    async def body(sc: Scenario) -> None:
        assert sc.runner.control.errors == []
        await watcher_live(sc)
        async with Traffic(sc) as traffic:
            await traffic.more(20)
            files = {f.name: f.read_text() for f in sc.dir.iterdir() if not f.name.startswith(".")}
            files["routes.yaml"] = config(sc.base, sc.web, api_header="configmap-2")["routes.yaml"]
            configmap_mount(sc.dir, files, 2)
            reply = await sc.until(lambda r: r.header("x-routed-by") == ["configmap-2"], "/api", timeout=WAIT)
            assert reply.header("x-routed-by") == ["configmap-2"]
            await traffic.more(100)
        assert traffic.failed == [], f"{len(traffic.failed)} of {traffic.done} requests failed: {traffic.failed[:5]}"
        assert route_file(sc) == str(sc.dir / "routes.yaml")
        await assert_only_existing_files_named(sc)

    run(_with(tmp_path, "delta", body, prepare=_as_configmap))


def test_a_symlink_loop_is_reported_and_later_edits_are_served(tmp_path: Path) -> None:
    async def body(sc: Scenario) -> None:
        os.symlink("loop.yaml", sc.dir / "loop.yaml")
        await until(lambda: [(Path(e.file).name, e.reason) for e in sc.runner.control.errors]
                    == [("loop.yaml", "symlink loop")], "the loop reported")
        await assert_only_existing_files_named(sc)
        for header in ("after-loop", "after-loop-2"):
            sc.write({"routes.yaml": config(sc.base, sc.web, api_header=header)["routes.yaml"]})
            reply = await sc.until(lambda r, h=header: r.header("x-routed-by") == [h], "/api")
            assert reply.header("x-routed-by") == [header]
        os.unlink(sc.dir / "loop.yaml")
        await until(lambda: sc.runner.control.errors == [], "the loop's error gone")
        sc.write({"routes.yaml": config(sc.base, sc.web, api_header="loop-gone")["routes.yaml"]})
        reply = await sc.until(lambda r: r.header("x-routed-by") == ["loop-gone"], "/api")
        assert reply.header("x-routed-by") == ["loop-gone"]

    run(_with(tmp_path, "delta", body))


def _debug_get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
        return json.loads(resp.read())


def test_serve_starts_with_a_symlink_loop_reports_it_and_serves_later_edits(tmp_path: Path) -> None:
    base = "127.0.0"  # never listened on: `serve` runs no Envoy
    d = tmp_path / "config"
    d.mkdir()
    for name, text in config(base, [f"{base}.13"]).items():
        (d / name).write_text(text)
    os.symlink("loop.yaml", d / "loop.yaml")
    serve = MeshgateProcess("serve", str(d), "--xds", "127.0.0.1:0", "--debug-port", "0")
    try:
        port = int(serve.wait_for_match(r"metrics and debug on http://127\.0\.0\.1:(\d+)/").group(1))
        assert "Traceback" not in serve.text
        status = _debug_get(port, "/debug/status")
        assert [(e["file"], e["reason"]) for e in status["errors"]] == [(str(d / "loop.yaml"), "symlink loop")]

        def served_header() -> str:
            text = json.dumps(_debug_get(port, "/debug/config?gateway=e2e/gw")["RDS"])
            m = re.search(r'"key": "x-routed-by", "value": "([^"]+)"', text)
            return m.group(1) if m else ""

        def serving(header: str) -> Callable[[], bool]:
            return lambda: served_header() == header

        assert served_header() == "meshgate"
        for header in ("edited", "edited-again"):
            tmp = d / ".routes.yaml.tmp"
            tmp.write_text(config(base, [f"{base}.13"], api_header=header)["routes.yaml"])
            tmp.replace(d / "routes.yaml")
            wait_until(serving(header), WAIT, step=0.1)
            assert served_header() == header
        os.unlink(d / "loop.yaml")
        wait_until(lambda: not _debug_get(port, "/debug/status")["errors"], WAIT, step=0.1)
        assert _debug_get(port, "/debug/status")["errors"] == []
        assert get(f"http://127.0.0.1:{port}/metrics").status in (0, 200)  # still answering
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.finish(timeout=30) == 0
    finally:
        serve.kill()
