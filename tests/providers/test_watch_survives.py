"""The watcher survives what a file tree can do: symlink loops (present at start or made later),
the watched directory removed and created again, a path given as a file replaced by a rename,
and a Kubernetes ConfigMap mount (kubelet swaps a `..data` symlink). Each time it reports what
is wrong as an input error and goes on applying later edits.

Real files and the real watch loop (watchfiles); every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from meshgate.providers.files import FileProvider
from meshgate.resources.meta import ObjectKey

from .test_duplicates import apply, services

WAIT = 15.0  # seconds for the watcher to see something (it wakes up every 0.5 s)


class Watching:
    """A provider's watch loop running in a task, its change sets applied to `served`."""

    def __init__(self, paths: list[Path]) -> None:
        self.p = FileProvider(paths)
        self.served: dict[ObjectKey, Any] = {}
        apply(self.served, self.p.load_all())
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Self:
        self.task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def _follow(self) -> None:
        async for changes in self.p.watch():
            apply(self.served, changes)

    def ports(self) -> dict[str, int]:
        return {k.name: o.ports[0].port for k, o in self.served.items()}

    def errors(self) -> list[tuple[str, str]]:
        return [(Path(e.file).name, e.reason) for e in self.p.errors]

    async def until(self, check: Callable[[], bool], what: str) -> None:
        """Wait (bounded) until `check()` holds; fail if the watch loop died meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while not check():
            assert self.task is not None
            if self.task.done():
                raise AssertionError(f"the watch loop ended ({self.task.exception()!r}) before {what}")
            assert loop.time() < deadline, f"not seen within {WAIT} s: {what}; served {self.ports()}, errors {self.errors()}"
            await asyncio.sleep(0.05)

    async def edit_is_applied(self, path: Path, port: int) -> None:
        path.write_text(services(("edited", port)))
        await self.until(lambda: self.ports().get("edited") == port, f"the edit of {path.name} to port {port}")


def run(coro) -> None:
    asyncio.run(asyncio.wait_for(coro, 120))


def test_a_symlink_loop_made_while_watching_is_reported_and_later_edits_apply(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))

    async def body() -> None:
        async with Watching([tmp_path]) as w:
            os.symlink("loop.yaml", tmp_path / "loop.yaml")
            await w.until(lambda: ("loop.yaml", "symlink loop") in w.errors(), "the loop reported")
            await w.edit_is_applied(tmp_path / "b.yaml", 2)
            assert w.ports() == {"one": 1, "edited": 2}
            os.unlink(tmp_path / "loop.yaml")
            await w.until(lambda: w.errors() == [], "the loop's error gone")
            await w.edit_is_applied(tmp_path / "b.yaml", 3)

    run(body())


def test_a_two_file_symlink_loop_is_reported_and_later_edits_apply(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))

    async def body() -> None:
        async with Watching([tmp_path]) as w:
            os.symlink("y.yaml", tmp_path / "x.yaml")
            os.symlink("x.yaml", tmp_path / "y.yaml")
            await w.until(lambda: {("x.yaml", "symlink loop"), ("y.yaml", "symlink loop")} <= set(w.errors()),
                          "both ends of the loop reported")
            await w.edit_is_applied(tmp_path / "a.yaml", 2)

    run(body())


def test_a_symlink_loop_present_at_start_is_reported_and_edits_apply(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))
    os.symlink("loop.yaml", tmp_path / "loop.yaml")

    async def body() -> None:
        async with Watching([tmp_path]) as w:  # the initial load does not raise
            assert w.ports() == {"one": 1}
            assert w.errors() == [("loop.yaml", "symlink loop")]
            await w.edit_is_applied(tmp_path / "b.yaml", 2)
            os.unlink(tmp_path / "loop.yaml")
            await w.until(lambda: w.errors() == [], "the loop's error gone")

    run(body())


def test_directory_symlink_loops_made_and_removed_while_watching_never_stop_edits(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))
    (tmp_path / "sub").mkdir()

    async def body() -> None:
        async with Watching([tmp_path]) as w:
            os.symlink("d2", tmp_path / "d1")
            os.symlink("d1", tmp_path / "d2")
            os.symlink("..", tmp_path / "sub" / "up")  # sub/up/sub/up/... for a watcher following links
            os.symlink(".", tmp_path / "sub" / "here.yaml")  # a directory named like a file
            await w.edit_is_applied(tmp_path / "sub" / "b.yaml", 2)
            for name in ("d1", "d2", "sub/up", "sub/here.yaml"):
                os.unlink(tmp_path / name)
            await w.edit_is_applied(tmp_path / "sub" / "b.yaml", 3)
            assert w.ports() == {"one": 1, "edited": 3} and w.errors() == []

    run(body())


def test_the_watched_directory_removed_and_created_again(tmp_path: Path) -> None:
    root = tmp_path / "config"
    root.mkdir()
    (root / "a.yaml").write_text(services(("one", 1)))

    async def body() -> None:
        async with Watching([root]) as w:
            await w.edit_is_applied(root / "b.yaml", 2)
            shutil.rmtree(root)
            # What a fresh load says: nothing, and the path is missing.
            await w.until(lambda: w.ports() == {} and w.errors() == [("config", "no such file or directory")],
                          "the removal")
            root.mkdir()
            (root / "a.yaml").write_text(services(("one", 10)))
            await w.until(lambda: w.ports() == {"one": 10} and w.errors() == [], "the new directory's file")
            await w.edit_is_applied(root / "b.yaml", 3)

    run(body())


def test_a_watched_file_replaced_by_a_rename(tmp_path: Path) -> None:
    # A path given as a file, saved the way editors save (write a copy, rename it over).
    path = tmp_path / "objects.yaml"
    path.write_text(services(("one", 1)))

    async def body() -> None:
        async with Watching([path]) as w:
            for port in (2, 3, 4):
                tmp = tmp_path / ".objects.yaml.tmp"
                tmp.write_text(services(("one", port)))
                tmp.replace(path)
                await w.until(lambda port=port: w.ports() == {"one": port}, f"the save of port {port}")

    run(body())


def configmap_mount(root: Path, files: dict[str, str], version: int) -> None:
    """Write `files` as kubelet's atomic writer updates a ConfigMap volume: a new timestamped
    directory, a `..data` symlink swapped to it by rename, and the visible names symlinks
    into `..data` (made once; a name no longer in the ConfigMap is removed)."""
    data = root / f"..2026_01_01_00_00_0{version}.{version:09d}"
    data.mkdir()
    for name, text in files.items():
        (data / name).write_text(text)
    old = os.readlink(root / "..data") if os.path.lexists(root / "..data") else None
    os.symlink(data.name, root / "..data_tmp")
    os.rename(root / "..data_tmp", root / "..data")
    for entry in root.iterdir():
        if not entry.name.startswith(".") and entry.name not in files:
            entry.unlink()
    for name in files:
        if not os.path.lexists(root / name):
            os.symlink(f"..data/{name}", root / name)
    if old is not None:
        shutil.rmtree(root / old)


def test_a_configmap_mount_updates(tmp_path: Path) -> None:
    root = tmp_path / "mount"
    root.mkdir()
    configmap_mount(root, {"a.yaml": services(("one", 1)), "b.yaml": services(("two", 1))}, 1)

    async def body() -> None:
        async with Watching([root]) as w:
            assert w.ports() == {"one": 1, "two": 1}
            assert {Path(o.source.file).name for o in w.served.values()} == {"a.yaml", "b.yaml"}
            configmap_mount(root, {"a.yaml": services(("one", 2)), "b.yaml": services(("two", 1))}, 2)
            await w.until(lambda: w.ports() == {"one": 2, "two": 1}, "the first update")
            # Recorded under the visible name, never under `..data` or the timestamped directory.
            assert {o.source.file for o in w.served.values()} == {str(root / "a.yaml"), str(root / "b.yaml")}
            configmap_mount(root, {"a.yaml": services(("one", 3))}, 3)  # b.yaml left the ConfigMap
            await w.until(lambda: w.ports() == {"one": 3}, "the second update")
            assert w.errors() == []

    run(body())


def test_when_watching_fails_the_tree_is_rescanned_and_the_failure_reported(tmp_path: Path) -> None:
    # watchfiles cannot report a path that is not UTF-8 (a directory untarred with Latin-1
    # names, say): its watch loop raises as soon as something happens there.
    root = tmp_path / "config"
    root.mkdir()
    (root / "a.yaml").write_text(services(("one", 1)))
    bad = os.path.join(os.fsencode(root), b"caf\xe9")

    async def body() -> None:
        async with Watching([root]) as w:
            await w.edit_is_applied(root / "b.yaml", 2)  # the watcher is in place
            os.mkdir(bad)
            Path(os.fsdecode(os.path.join(bad, b"notes.txt"))).write_text("not configuration")
            await w.until(lambda: any(f == "config" and r.startswith("cannot watch for changes (")
                                      and r.endswith("rescanning every 1 s") for f, r in w.errors()),
                          "the failure reported")
            await w.edit_is_applied(root / "b.yaml", 3)  # by a rescan
            await w.edit_is_applied(root / "b.yaml", 4)
            shutil.rmtree(bad)
            await w.until(lambda: w.errors() == [], "watching again")
            await w.edit_is_applied(root / "b.yaml", 5)

    run(body())
