"""Pid records of managed Envoys in their workdir, and stopping what a crashed run left behind.

Each running managed Envoy has a record `<gateway>.envoy.pid` in the workdir: its pid, the
process's start time (field 22 of /proc/PID/stat, clock ticks since boot) and its bootstrap path,
rewritten on each restart and removed when meshgate stops it. A run that is killed leaves its
records behind. Its Envoys normally die with it (the launcher's parent-death signal), but not
where that signal does not exist or when an Envoy hangs on it: the next run of the same workdir
reads the records and stops each recorded Envoy that is still running.

"Still running" means the pid is alive (not a zombie) with the recorded start time *and* the
recorded bootstrap path among its arguments. A process that merely got the same pid since has
another start time and another command line, and is never signalled; the signal goes through a
pidfd opened before that check, so it cannot reach a process that took the pid afterwards.
Linux only (/proc); elsewhere no record matches and nothing is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .private_files import write_private

log = logging.getLogger(__name__)

RECORD_SUFFIX = ".envoy.pid"
_POLL = 0.05


@dataclass(frozen=True)
class EnvoyRecord:
    """What identifies one managed Envoy process."""

    name: str  # the Gateway, "namespace/name"
    pid: int
    start_time: int  # /proc/PID/stat field 22
    config: str  # the bootstrap path it was started with (-c)


def parse_stat(text: str) -> tuple[str, int]:
    """(state, start time) from the text of /proc/PID/stat. The command name, in parentheses,
    may hold spaces and parentheses itself: fields are counted after its last ')'."""
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[19])  # fields 3 and 22 of proc(5)


def process_start_time(pid: int) -> int | None:
    """The start time of a live process `pid`; None when there is none, or only its zombie."""
    try:
        state, start = parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None
    return None if state in ("Z", "X") else start


def _arguments(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="surrogateescape") for a in raw.split(b"\0")]


def is_running(record: EnvoyRecord) -> bool:
    """True while the recorded process itself is alive (same start time, same bootstrap argument)."""
    return process_start_time(record.pid) == record.start_time and record.config in _arguments(record.pid)


def record_path(workdir: Path, stem: str) -> Path:
    """Where the record of the Envoy with file stem `stem` lives."""
    return workdir / f"{stem}{RECORD_SUFFIX}"


def make_record(name: str, pid: int, config: Path) -> EnvoyRecord | None:
    """The record of the just-started process `pid`; None if it is already gone."""
    start = process_start_time(pid)
    return None if start is None else EnvoyRecord(name, pid, start, str(config))


def write_record(path: Path, record: EnvoyRecord) -> None:
    """Write `record` to `path` (atomically, mode 0600)."""
    write_private(path, json.dumps(asdict(record)) + "\n")


def read_record(path: Path) -> EnvoyRecord | None:
    """The record in `path`; None if it is unreadable or not a record."""
    try:
        data = json.loads(path.read_text())
        return EnvoyRecord(str(data["name"]), int(data["pid"]), int(data["start_time"]), str(data["config"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


async def _exited(record: EnvoyRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(record):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL)
    return True


async def stop_recorded(record: EnvoyRecord, timeout: float = 10.0) -> bool:
    """Stop the recorded Envoy if it still runs: SIGTERM, then SIGKILL after `timeout`.
    True when it was running (and is now gone); False when it already was."""
    try:
        pidfd: int | None = os.pidfd_open(record.pid)
    except ProcessLookupError:
        return False
    except (OSError, AttributeError):  # a kernel or platform without pidfds: signal by pid
        pidfd = None
    try:
        if not is_running(record):  # checked after the pidfd is open: the pidfd is that process
            return False
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                if pidfd is not None:
                    signal.pidfd_send_signal(pidfd, sig)
                else:
                    os.kill(record.pid, sig)
            if await _exited(record, timeout):
                return True
            log.warning("Envoy %s (pid %d) left by an earlier run ignored %s for %gs",
                        record.name, record.pid, sig.name, timeout)
        return not is_running(record)
    finally:
        if pidfd is not None:
            os.close(pidfd)


async def stop_leftovers(workdir: Path, timeout: float = 10.0) -> list[EnvoyRecord]:
    """Stop every Envoy recorded in `workdir` that still runs and remove the records:
    the Envoys that were stopped (an earlier run crashed and left them)."""
    stopped = []
    for path in sorted(workdir.glob(f"*{RECORD_SUFFIX}")):
        record = read_record(path)
        if record is not None and await stop_recorded(record, timeout):
            stopped.append(record)
        path.unlink(missing_ok=True)
    return stopped
