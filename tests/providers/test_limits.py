"""Big files: input limits (size, documents) refuse a file with an error naming it and the
limit, keeping its last good objects; files are parsed off the event loop."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from meshgate.providers.files import FileProvider
from meshgate.resources.loader import InputLimits
from meshgate.resources.meta import ObjectKey

from .test_duplicates import apply, services


def test_a_file_over_the_size_limit_is_refused_and_keeps_its_last_good_objects(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(services(("one", 1)))
    p = FileProvider([tmp_path], InputLimits(max_file_bytes=1000))
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    path.write_text(services(*[(f"s{i}", 2) for i in range(20)]))  # valid, but 2 kB
    assert not p.reload(path)
    assert [o.ports[0].port for o in served.values()] == [1]
    (e,) = p.errors
    assert (e.file, e.line, e.reason) == (str(path), 0, "file is larger than 1000 bytes (--max-file-bytes): not loaded")
    # Back under the limit: loaded again.
    path.write_text(services(("one", 3)))
    apply(served, p.reload(path))
    assert [o.ports[0].port for o in served.values()] == [3] and not p.errors


def test_a_file_over_the_document_limit_is_refused_and_keeps_its_last_good_objects(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(services(("one", 1), ("two", 1), ("three", 1)))
    p = FileProvider([tmp_path], InputLimits(max_documents=3))
    served: dict[ObjectKey, Any] = {}
    apply(served, p.load_all())
    assert len(served) == 3 and not p.errors
    path.write_text(services(("one", 2), ("two", 2), ("three", 2), ("four", 2)))
    assert not p.reload(path)
    assert {o.ports[0].port for o in served.values()} == {1}
    (e,) = p.errors
    assert (e.file, e.line, e.reason) == (str(path), 19, "more than 3 documents (--max-documents): not loaded")
    # A List's items count as documents.
    items = "".join(f"- {{apiVersion: v1, kind: Service, metadata: {{name: s{i}, namespace: ns}}, "
                    f"spec: {{ports: [{{port: 80}}]}}}}\n" for i in range(4))
    path.write_text("apiVersion: v1\nkind: List\nitems:\n" + items)
    assert not p.reload(path)
    (e,) = p.errors
    assert (e.line, e.reason) == (7, "more than 3 documents (--max-documents): not loaded")
    path.write_text("apiVersion: v1\nkind: List\nitems:\n" + items[: items.index("- ", 1) * 3])
    apply(served, p.reload(path))
    assert sorted(k.name for k in served) == ["s0", "s1", "s2"] and not p.errors


def test_the_limits_are_options_of_the_commands(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1), ("two", 1)))
    exe = Path(sys.executable).parent / "meshgate"
    for command in ("translate", "status"):
        for option, reason in (("--max-documents=1", "more than 1 documents (--max-documents): not loaded"),
                               ("--max-file-bytes=10", "file is larger than 10 bytes (--max-file-bytes): not loaded")):
            proc = subprocess.run([str(exe), command, str(tmp_path), option, "-o", "json"],
                                  capture_output=True, text=True, timeout=60, check=False)
            assert proc.returncode == 1, proc.stderr
            (error,) = json.loads(proc.stdout)["errors"]
            assert (error["file"], error["reason"]) == (str(tmp_path / "a.yaml"), reason)
    for command in ("run", "serve"):
        text = subprocess.run([str(exe), command, "--help"], capture_output=True, text=True, timeout=60,
                              check=True).stdout
        assert "--max-file-bytes" in text and "--max-documents" in text


def _parsing_in_another_thread() -> bool:
    """Whether a thread other than this one is inside the YAML loader right now."""
    me = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        f = frame if ident != me else None
        while f is not None:
            if f.f_code.co_name == "_load_text":
                return True
            f = f.f_back
    return False


def test_the_event_loop_keeps_running_while_a_big_file_parses(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(services(("one", 1)))
    # 5 MB of small documents: under the size limit; the document limit raised to let it in.
    big = services(*[(f"s{i}", 80) for i in range(46_000)])
    assert 4_500_000 < len(big) < InputLimits().max_file_bytes
    p = FileProvider([tmp_path], InputLimits(max_documents=50_000))
    p.load_all()
    ticks_while_parsing = 0

    async def ticker() -> None:
        nonlocal ticks_while_parsing
        while True:
            await asyncio.sleep(0.001)
            ticks_while_parsing += _parsing_in_another_thread()

    async def body() -> None:
        changes = p.watch()
        tick = asyncio.create_task(ticker())
        try:
            (tmp_path / "big.yaml").write_text(big)
            loaded = 0
            while loaded < 46_000:  # the first change set may come before the file is complete
                got = await asyncio.wait_for(anext(changes), 60)
                loaded += sum(1 for o in got.upserts if Path(o.source.file).name == "big.yaml")
        finally:
            tick.cancel()
            await changes.aclose()

    asyncio.run(body())
    # The loop ran all along the parse (which takes seconds); how often is not the point.
    assert ticks_while_parsing >= 20
