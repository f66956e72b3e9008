"""README's "Step by step, against the API emulator" works as written: its shell block is run
by bash, with only what must differ in a shared test run substituted (free ports, a temporary
kubeconfig, the quickstart's loopback addresses moved to a free subnet), and the Gateway it
creates answers through the provisioned Envoy with the status the README shows. kubectl is a
Debian package on this machine kind (the walkthrough is about kubectl); the test needs it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from ..e2e.harness import free_subnet
from .harness import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0


def _block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Step by step, against the API emulator", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def _quickstart(into: Path, base: str) -> Path:
    dest = into / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", dest)
    for f in dest.iterdir():
        f.write_text(re.sub(r"127\.0\.0\.(\d+)", lambda m: f"{base}.{m[1]}", f.read_text()))
    return dest


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status, resp.read().decode()
    except OSError:
        return 0, ""


def _output(proc: subprocess.Popen) -> str:
    """What the walkthrough printed so far (for a failure's message)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    return out[-4000:]


def test_the_readme_walkthrough_works_against_the_emulator(tmp_path: Path) -> None:
    assert shutil.which("kubectl"), "kubectl (Debian package kubectl) is needed by the README walkthrough"
    base = free_subnet()
    kubeconfig = tmp_path / "kubeconfig"
    script = _block()
    lines = script.splitlines()
    # The verification lines run below, polled: what the README shows "a moment later".
    cut = next(i for i, line in enumerate(lines) if line.startswith("kubectl get"))
    setup = "\n".join(lines[:cut])
    xds = f"127.0.0.1:{free_port()}"
    for old, new in [("16443", str(free_port())), ("/tmp/meshgate-kubeconfig", str(kubeconfig)),
                     ("127.0.0.1:18000", xds), ("examples/quickstart/", str(_quickstart(tmp_path, base))),
                     ("--proxy-xds", "--debug-port 0 --proxy-xds")]:
        assert old in setup, old
        setup = setup.replace(old, new)
    # The echo backends' addresses (the quickstart's endpoints), moved with the quickstart.
    setup = re.sub(r"127\.0\.0\.(1\d)", lambda m: f"{base}.{m[1]}", setup)
    proc = subprocess.Popen(["bash", "-ec", setup + "\nwait\n"], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "KUBECONFIG": str(kubeconfig)})
    try:
        deadline = time.monotonic() + WAIT
        status, body = _get(f"http://{base}.1:18080/api")
        while status != 200 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            status, body = _get(f"http://{base}.1:18080/api")
        assert status == 200 and '"path": "/api"' in body, (status, body, _output(proc))
        conditions = lines[cut + 1]
        assert "jsonpath" in conditions and conditions.rstrip().endswith("# True True")
        command = conditions.split("#", 1)[0]
        got = ""
        while time.monotonic() < deadline:
            got = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30, cwd=ROOT, check=False,
                                 env={**os.environ, "KUBECONFIG": str(kubeconfig)}).stdout
            if got == "True True":
                break
            time.sleep(0.2)
        assert got == "True True"
        listed = subprocess.run(["bash", "-c", lines[cut].split("#", 1)[0]], capture_output=True, text=True,
                                timeout=30, cwd=ROOT, check=False, env={**os.environ, "KUBECONFIG": str(kubeconfig)}).stdout
        assert "deployment.apps/web-meshgate" in listed and "service/web-meshgate" in listed, listed
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
