"""Files meshgate writes for its Envoys, readable by their owner only.

A workdir holds bootstraps (node identity, xDS address), access logs (client addresses, paths,
headers) and pid records: the directory is 0700 and every file in it 0600, whatever the umask,
including files left 0644 by an older version (their mode is tightened when they are rewritten).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) as 0700, or take group and other access away if it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, mode & DIR_MODE)
    return path


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through open(): tighten it
    return fd


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a temporary file renamed over it), mode 0600."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", opener=_private_opener) as f:
        f.write(text)
    os.replace(tmp, path)


def open_private_append(path: Path) -> BinaryIO:
    """`path` opened for appending in binary, created (or tightened to) 0600."""
    return open(path, "ab", opener=_private_opener)
