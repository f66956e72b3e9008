"""meshgate's own ports are never shared: a second `meshgate serve` or `run` on a port a first
one holds (xDS or debug) says so in one line on stderr and exits 1, and the first one keeps its
proxies."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..meshgate_process import MESHGATE, MeshgateProcess

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
START_TIMEOUT_S = 60.0
SECOND_TIMEOUT_S = 60.0  # the second one must give up long before this


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """A `meshgate serve` of the quickstart on ports of its choosing: (xDS port, debug port)."""
    config = tmp_path_factory.mktemp("first") / "quickstart"
    shutil.copytree(QUICKSTART, config)
    with MeshgateProcess("serve", str(config), "--xds", "127.0.0.1:0", "--debug-port", "0",
                         merge_stderr=False) as serve:
        ports = serve.wait_for_match(r"on 127\.0\.0\.1:(\d+);.*http://127\.0\.0\.1:(\d+)/metrics",
                                     START_TIMEOUT_S)
        yield int(ports[1]), int(ports[2])
        assert serve.proc.poll() is None, "the first meshgate died"


@pytest.mark.parametrize("command", ["serve", "run"])
@pytest.mark.parametrize("taken", ["xds", "debug"])
def test_a_port_already_taken_is_one_line_and_exit_1(first: tuple[int, int], tmp_path: Path, command: str,
                                                     taken: str) -> None:
    xds_port, debug_port = first
    # No Gateway in the input: whatever happens, `run` starts no Envoy.
    config = tmp_path / "empty"
    config.mkdir()
    xds = f"127.0.0.1:{xds_port}" if taken == "xds" else "127.0.0.1:0"
    debug = str(debug_port) if taken == "debug" else "0"
    args = [str(MESHGATE), command, str(config), "--xds", xds, "--debug-port", debug]
    if command == "run":
        args += ["--workdir", str(tmp_path / "work")]
    second = subprocess.run(args, check=False, capture_output=True, text=True, timeout=SECOND_TIMEOUT_S)
    assert second.returncode == 1, second
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    address = f"127.0.0.1:{xds_port if taken == 'xds' else debug_port}"
    assert address in lines[0] and ("xDS" if taken == "xds" else "debug") in lines[0], lines[0]
