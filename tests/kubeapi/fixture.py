"""Emulators for tests: in this process (`running_emulator`, with the Emulator object at hand for
controls) or as a subprocess (`emulator_process`, controlled over /emulator/ and restartable on
the same port with its state file), each yielding its URL and a kubeconfig for it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import signal
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from .kubeconfig import self_signed, server_ssl_context, write_kubeconfig
from .server import Emulator

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    """An in-process emulator with its URL and kubeconfig."""

    emulator: Emulator
    kubeconfig: Path

    @property
    def url(self) -> str:
        """The emulator's base URL."""
        return self.emulator.url


@contextlib.asynccontextmanager
async def running_emulator(directory: Path, *, tls: bool = False, token: str | None = "test-token",
                           state_file: Path | None = None, **options: Any) -> AsyncIterator[Running]:
    """An emulator on a free 127.0.0.1 port in this event loop, stopped on exit. `options` go to
    Emulator (history_limit, bookmark_interval, max_watch_seconds...)."""
    context, ca = None, None
    if tls:
        cert, key = self_signed(directory / "tls")
        context, ca = server_ssl_context(cert, key), cert.read_bytes()
    emulator = Emulator(state_file=state_file, token=token, ssl_context=context, **options)
    await emulator.start()
    try:
        yield Running(emulator, write_kubeconfig(directory / "kubeconfig", emulator.url, token, ca))
    finally:
        await emulator.stop()


@dataclass
class Process:
    """An emulator subprocess: its kubeconfig, URL, and the controls it serves."""

    directory: Path
    state_file: Path | None
    tls: bool
    proc: asyncio.subprocess.Process | None = None
    port: int = 0
    url: str = ""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    service_cidr: str = ""  # "": the emulator's default

    @property
    def kubeconfig(self) -> Path:
        """Where its kubeconfig is."""
        return self.directory / "kubeconfig"

    async def start(self, timeout: float = 30.0) -> None:
        """Start it (on the port it had, after a stop) and wait until it listens."""
        args = [sys.executable, "-m", "tests.kubeapi", "--port", str(self.port), "--kubeconfig",
                str(self.kubeconfig), f"--token={self.token}"]  # a token may start with "-"
        if self.state_file is not None:
            args += ["--state", str(self.state_file)]
        if self.tls:
            args.append("--tls")
        if self.service_cidr:
            args.append(f"--service-cidr={self.service_cidr}")
        self.proc = await asyncio.create_subprocess_exec(*args, cwd=REPO, stdout=asyncio.subprocess.PIPE,
                                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), timeout)).decode().strip()
        if not line.startswith("serving "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        self.port = int(self.url.rsplit(":", 1)[1])

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM it (it saves its state) and wait for it to exit; SIGKILL if it does not."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def restart(self) -> None:
        """Stop and start again on the same port."""
        await self.stop()
        await self.start()

    async def control(self, name: str, body: dict[str, Any] | None = None, method: str = "POST") -> Any:
        """POST /emulator/NAME (forbid, allow, compact, drop-watches, bookmark, settle), or GET
        one (state, requests) with `method="GET"`."""
        ca = yaml.safe_load(self.kubeconfig.read_text())["clusters"][0]["cluster"].get("certificate-authority-data")
        ssl_arg: Any = None
        if ca:
            ssl_arg = ssl.create_default_context(cadata=base64.b64decode(ca).decode())
        async with aiohttp.ClientSession() as session, session.request(
                method, f"{self.url}/emulator/{name}", json=(body or {}) if method != "GET" else None, ssl=ssl_arg,
                timeout=aiohttp.ClientTimeout(total=30)) as response:
            response.raise_for_status()
            return await response.json()


@contextlib.asynccontextmanager
async def emulator_process(directory: Path, *, state_file: Path | None = None, tls: bool = False
                           ) -> AsyncIterator[Process]:
    """`python -m tests.kubeapi` as a subprocess on a free 127.0.0.1 port, stopped on exit."""
    process = Process(directory, state_file, tls)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
