"""The directory of `meshgate run`'s Envoys: bootstraps, logs, pid records; one run at a time.

`--workdir DIR` is created 0700 (an existing one loses group and other access); without it a
temporary directory (mkdtemp, 0700) is used. Either is kept after the run, so the Envoys' access
logs can still be read; `--cleanup` removes a temporary one, never a directory the user named.
A run holds an exclusive lock on `DIR/meshgate.lock` (flock, released by the kernel however
the run ends): a second run of the same workdir is refused, so that cleaning up after a crashed
run (`envoy/leftovers.py`) never stops the Envoys of a live one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..envoy.private_files import FILE_MODE, private_dir

LOCK_NAME = "meshgate.lock"


class WorkdirInUse(RuntimeError):
    """Another live meshgate run holds the workdir."""


@dataclass
class Workdir:
    """A claimed workdir; `release()` gives it back (and removes it when asked and temporary)."""

    path: Path
    temporary: bool
    _lock_fd: int | None = None

    @classmethod
    def claim(cls, path: Path | None) -> Workdir:
        """Create (or tighten) and lock `path`, or a new temporary directory when None.
        WorkdirInUse when another run holds it."""
        if path is None:
            wd = cls(Path(tempfile.mkdtemp(prefix="meshgate-")), temporary=True)
        else:
            wd = cls(private_dir(path.absolute()), temporary=False)
        wd._lock()
        return wd

    def _lock(self) -> None:
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise WorkdirInUse(f"workdir {self.path} is in use by another meshgate run (pid {holder})") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd = fd

    def release(self, cleanup: bool = False) -> bool:
        """Unlock; with `cleanup`, remove the directory if it is a temporary one. True if removed."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if cleanup and self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)
            return True
        return False
