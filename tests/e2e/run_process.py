"""`meshgate run` as a subprocess on the quickstart (moved to a loopback subnet of its own), its
output read line by line, and what the tests need to look at its Envoys in /proc."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .harness import free_subnet

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
GATEWAY_PORT = 18080  # the quickstart's listener


def quickstart_copy(tmp_path: Path) -> tuple[Path, str]:
    """The quickstart under tmp_path on a free 127.A.B.0/24: (config dir, 127.A.B)."""
    base = free_subnet()
    config = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, config)
    for f in config.glob("*.yaml"):
        f.write_text(f.read_text().replace("127.0.0.", f"{base}."))
    return config, base


class MeshgateRun:
    """One `meshgate run CONFIG --echo ...` with random xDS and debug ports."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None, umask: int = -1) -> None:
        exe = Path(sys.executable).parent / "meshgate"
        self.proc = subprocess.Popen(
            [str(exe), "run", str(config), "--echo", "--xds", "127.0.0.1:0", "--debug-port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})), umask=umask)
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        # Read by a thread: select() on the pipe would miss lines already buffered.
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """The first output line containing `text` (bounded); AssertionError with the output if none."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if text in line:
                    return line
            left = deadline - time.monotonic()
            assert left > 0, f"no line with {text!r} in:\n{self.text}"
            try:
                self.lines.append(self._queue.get(timeout=min(left, 0.5)))
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    raise AssertionError(f"meshgate exited ({self.proc.returncode}) before {text!r}:\n{self.text}") from None

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the exit (bounded) and collect the rest of the output: the exit status."""
        code = self.proc.wait(timeout=timeout)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                self.lines.append(self._queue.get(timeout=0.2))
            except queue.Empty:
                break
        return code

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """Stop meshgate if it still runs: SIGTERM first, so that it stops its Envoys even where
        they would outlive a SIGKILL, then SIGKILL after 20 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, dead but not reaped yet, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def processes_mentioning(text: str) -> list[int]:
    """Live processes with `text` in their command line."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline and alive(int(entry.name)):
                out.append(int(entry.name))
    return out


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def can_bind(host: str, port: int) -> bool:
    """True if a TCP socket without SO_REUSEPORT can listen on host:port now (SO_REUSEADDR:
    the closed connections' TIME_WAIT do not count, a listening socket does)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            s.listen()
        except OSError:
            return False
    return True


def wait_until(pred, timeout: float, step: float = 0.05) -> bool:
    """Poll `pred` until it holds or `timeout` passes: whether it held."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True
