"""A `meshgate SUBCOMMAND ...` subprocess for tests: its output read line by line as it comes,
bounded waits for a line, and a stop that never leaves it running (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Self

MESHGATE = Path(sys.executable).parent / "meshgate"  # this virtualenv's console script
READ_REST_S = 10.0  # after the exit: how long the rest of the output may take to arrive


class MeshgateProcess:
    """`meshgate SUBCOMMAND *args`, stdin closed, stdout (and stderr, merged into it unless
    `merge_stderr=False`) read by threads. `lines` holds every line read so far in arrival order,
    `out` and `err` the same per stream (`err` stays empty when merged). Use as a context manager,
    or call `stop()` / `kill()` in a `finally`."""

    def __init__(self, subcommand: str, *args: str, env: dict[str, str] | None = None, umask: int = -1,
                 merge_stderr: bool = True) -> None:
        self.proc = subprocess.Popen(
            [str(MESHGATE), subcommand, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})), umask=umask)
        self.lines: list[str] = []
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._last = -1  # index in `lines` of the line the last wait_for returned
        streams: list[tuple[IO[str] | None, list[str]]] = [(self.proc.stdout, self.out)]
        if not merge_stderr:
            streams.append((self.proc.stderr, self.err))
        # Read by threads: select() on the pipe would miss lines already buffered.
        self._readers = [threading.Thread(target=self._read, args=s, daemon=True) for s in streams]
        for t in self._readers:
            t.start()

    def _read(self, pipe: IO[str] | None, into: list[str]) -> None:
        assert pipe is not None
        for line in pipe:
            with self._changed:
                self.lines.append(line)
                into.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()  # the end of a stream: a waiter may give up now

    def _output_ended(self) -> bool:
        return not any(t.is_alive() for t in self._readers)

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 60.0, *, after_last: bool = False) -> str:
        """The first output line containing `pattern` (a string) or in which it is found (a
        compiled regex), from the first line on, or with `after_last` from the line after the
        one the previous wait_for returned. Bounded by `timeout`; AssertionError with the whole
        output if no such line comes or meshgate exits first."""
        def matches(line: str) -> bool:
            return pattern in line if isinstance(pattern, str) else pattern.search(line) is not None

        deadline = time.monotonic() + timeout
        start = self._last + 1 if after_last else 0
        with self._changed:
            while True:
                for i in range(start, len(self.lines)):
                    if matches(self.lines[i]):
                        self._last = i
                        return self.lines[i]
                start = len(self.lines)
                shown = pattern if isinstance(pattern, str) else pattern.pattern
                if self._output_ended():
                    raise AssertionError(f"meshgate exited ({self.proc.poll()}) before {shown!r}:\n{self.text}")
                left = deadline - time.monotonic()
                assert left > 0, f"no line with {shown!r} in:\n{self.text}"
                if not self._changed.wait(min(left, 0.5)) and len(self.lines) == start \
                        and self.proc.poll() is not None:
                    # Exited, and nothing more came in half a second: a child may hold the pipe.
                    raise AssertionError(f"meshgate exited ({self.proc.returncode}) before {shown!r}:\n{self.text}")

    def wait_for_match(self, regex: str, timeout: float = 60.0, *, after_last: bool = False) -> re.Match[str]:
        """`wait_for(re.compile(regex))`, its match (for the groups)."""
        compiled = re.compile(regex)
        m = compiled.search(self.wait_for(compiled, timeout, after_last=after_last))
        assert m is not None
        return m

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the exit (bounded: TimeoutExpired after `timeout`) and collect the rest of the
        output: the exit status."""
        code = self.proc.wait(timeout=timeout)
        self._read_rest()
        return code

    def _read_rest(self) -> None:
        deadline = time.monotonic() + READ_REST_S
        for t in self._readers:
            t.join(max(0.0, deadline - time.monotonic()))

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM (if it still runs) and `finish(timeout)`: the exit status. A meshgate still
        running after `timeout` is killed with SIGKILL and TimeoutExpired raised: it did not stop
        as asked."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.finish(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                self._read_rest()

    def stop(self, timeout: float = 20.0) -> int:
        """Stop meshgate if it still runs: SIGTERM first, so that it stops its Envoys even where
        they would outlive a SIGKILL, then SIGKILL after `timeout`. The exit status (that of the
        SIGKILL, -9, when SIGTERM was not enough), the rest of the output collected."""
        try:
            return self.terminate(timeout)
        except subprocess.TimeoutExpired:
            return self.proc.returncode

    def kill(self) -> None:
        """`stop()`, its status ignored: for a `finally`."""
        self.stop()

    @property
    def text(self) -> str:
        """All output read so far."""
        with self._changed:
            return "".join(self.lines)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
