"""The processes of a conformance run: `meshgate run` (with its managed Envoys) and echo Pods.

Each echo Pod is its own `meshgate echo` process, its stderr a file: the Pod's log, where the
mirror tests look for "Echoing back request made to <path>".
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cluster import Pod

BIN = Path(sys.executable).parent
_ENVOY_LINE = re.compile(r"gateway (?P<gateway>\S+): \S+\s+\(Envoy admin (?P<admin>http://\S+), access log ")
STARTUP_TIMEOUT = 30.0


def meshgate_exe() -> str:
    """The meshgate console script of this virtualenv."""
    exe = BIN / "meshgate"
    if not exe.exists():
        raise RuntimeError(f"{exe} not found: install meshgate into this virtualenv (make install)")
    return str(exe)


def wait_listening(host: str, port: int, proc: subprocess.Popen, what: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until something accepts connections on host:port (while `proc` runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} is not listening on {host}:{port} after {timeout:.0f} s")


def _stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait_logged(log: Path, text: str, proc: subprocess.Popen, what: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until `log` holds `text` (a UDP server cannot be probed by connecting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}: {log.read_text(errors='replace')[-500:]}")
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not log {text!r} after {timeout:.0f} s")


@dataclass
class EchoPod:
    """One echo-basic replica (or the coredns stand-in) as a `meshgate echo` process, in the mode
    and with the ports its Deployment asks for (cluster.EchoSpec); `tls_files` are the mounted
    Secret's certificate and key when it serves TLS, `client_ca` the CA bundle client certificates
    are verified against (TLS_CLIENT_CACERTS)."""

    pod: Pod
    log: Path
    proc: subprocess.Popen | None = None
    tls_files: tuple[Path, Path] | None = None
    client_ca: Path | None = None  # the mounted ConfigMap's ca.crt (TLS_CLIENT_CACERTS)

    def command(self) -> list[str]:
        """The `meshgate echo` command line of this Pod."""
        spec = self.pod.spec
        cmd = [meshgate_exe(), "echo", "--address", self.pod.ip, "--port", str(spec.port), "--mode", spec.mode,
               "--pod", self.pod.name, "--namespace", self.pod.namespace]
        if spec.service:
            cmd += ["--service", spec.service]
        if spec.ingress:
            cmd += ["--ingress", spec.ingress]
        if spec.h2c_port is not None:
            cmd += ["--h2c-port", str(spec.h2c_port)]
        if spec.grpc_port is not None:
            cmd += ["--grpc-port", str(spec.grpc_port)]
        if spec.tls_port is not None and self.tls_files is not None:
            cmd += ["--tls-port", str(spec.tls_port), "--tls-cert", str(self.tls_files[0]),
                    "--tls-key", str(self.tls_files[1])]
            if self.client_ca is not None:
                cmd += ["--tls-client-ca", str(self.client_ca)]
        return cmd

    def ports(self) -> list[int]:
        """The ports it listens on (the TLS one only with a certificate)."""
        spec = self.pod.spec
        return [p for p in spec.ports() if p != spec.tls_port or self.tls_files is not None]

    def start(self) -> None:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def wait_ready(self) -> None:
        assert self.proc is not None
        what = f"echo pod {self.pod.namespace}/{self.pod.name}"
        if self.pod.spec.udp:
            _wait_logged(self.log, "echo listening on", self.proc, what)
            return
        for port in self.ports():
            wait_listening(self.pod.ip, port, self.proc, what)

    def logs(self) -> str:
        """The Pod's log so far (kubectl logs)."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


@dataclass
class Meshgate:
    """`meshgate run DIR` with an address pool; its output is kept for failure reports."""

    config_dir: Path
    workdir: Path
    address_pool: str
    proc: subprocess.Popen | None = None
    debug: str = ""  # host:port of its debug endpoint, read from its output
    output: list[str] = field(default_factory=list)
    _lines: queue.Queue = field(default_factory=queue.Queue)

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [meshgate_exe(), "run", str(self.config_dir), "--xds", "127.0.0.1:0", "--debug-port", "0",
             "--address-pool", self.address_pool, "--workdir", str(self.workdir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=env)
        threading.Thread(target=self._read, daemon=True, name="meshgate-output").start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.debug:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError("meshgate run did not come up:\n" + "\n".join(self.output[-30:]))
            try:
                line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            marker = "metrics and debug on http://"
            if marker in line:
                self.debug = line.split(marker, 1)[1].split("/", 1)[0]

    def envoy_admins(self) -> dict[str, str]:
        """Gateway "ns/name" → the admin URL of its managed Envoy, as `meshgate run` last printed it
        ("gateway NS/NAME: http://ADDRESS:PORT  (Envoy admin URL, access log FILE)")."""
        out = {}
        for line in list(self.output):
            match = _ENVOY_LINE.match(line)
            if match:
                out[match["gateway"]] = match["admin"]
        return out

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.output.append(line)
            self._lines.put(line)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
