"""What tests look at on this machine: processes in /proc, whether a port is free, and a bounded
poll until a condition holds."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path


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
    """The parent process id of `pid`."""
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


def wait_until(pred: Callable[[], object], timeout: float, step: float = 0.05) -> bool:
    """Poll `pred` until it holds or `timeout` passes: whether it held."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True
