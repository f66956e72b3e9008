"""`meshgate run` as a subprocess on the quickstart (moved to a loopback subnet of its own). The
process itself is tests/meshgate_process.py's; the /proc and port checks, tests/system_checks.py's
(named here too, for the tests that import them from here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..meshgate_process import MeshgateProcess
from ..system_checks import alive, can_bind, parent_of, processes_mentioning, wait_until
from .harness import free_subnet

__all__ = ["GATEWAY_PORT", "QUICKSTART", "MeshgateRun", "alive", "can_bind", "parent_of", "processes_mentioning",
           "quickstart_copy", "wait_until"]

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


class MeshgateRun(MeshgateProcess):
    """One `meshgate run CONFIG --echo ...` with random xDS and debug ports."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None, umask: int = -1) -> None:
        super().__init__("run", str(config), "--echo", "--xds", "127.0.0.1:0", "--debug-port", "0", *args,
                         env=env, umask=umask)
