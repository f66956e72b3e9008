"""The echo server: threads for connections, bounded stop, retry-session bookkeeping; and
`meshgate echo`'s entry point."""

from __future__ import annotations

import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .answer import PodContext

if TYPE_CHECKING:
    from .modes import EchoOptions
from .go import _STOP_TIMEOUT, MAX_RETRY_SESSIONS, _logger, _text
from .h2c import H2CHandler
from .handler import _Handler


class _HTTPServer(ThreadingHTTPServer):
    """One listening port of an EchoServer: HTTP/1.1 (`tls`: over TLS), or h2c with H2CHandler."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], echo: EchoServer, handler: Any = _Handler,
                 tls: ssl.SSLContext | None = None) -> None:
        self.echo = echo
        self.tls = tls
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # The handshake happens in the connection's own thread (the handler's setup), so a slow
            # or silent client cannot hold up the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6 and self.server_address[0] in ("::", ""):
            try:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            except OSError:
                pass
        # HTTPServer.server_bind would also resolve the host's FQDN, which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]  # what server_bind just put in server_address
        self.server_name = host
        self.server_port = port

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(target=self._worker, args=(request, client_address), daemon=True,
                             name=f"echo-conn-{client_address[1]}")
        self.echo._add_worker(t)
        t.start()

    def _worker(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.echo._drop_worker(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class EchoServer:
    """The echo backend on one address: its HTTP port, and optionally echo-basic's h2c port and TLS
    port (`tls_context`, see tls.server_context), each served from a background thread, sharing
    the retry counts and the log.

    ``requests_seen`` lists the request targets (path with query) of the requests
    echoed so far, in arrival order (the same requests the log line is written for:
    ``/health`` and ``/status/...`` probes are not included).
    """

    def __init__(self, address: str = "127.0.0.1", port: int = 0, pod: str = "", namespace: str = "",
                 log: Callable[[str], None] | None = None, *, h2c_port: int | None = None,
                 tls_port: int | None = None, tls_context: ssl.SSLContext | None = None,
                 service: str = "", ingress: str = "") -> None:
        if (tls_port is None) != (tls_context is None):
            raise ValueError("a TLS port needs a TLS context and the other way round")
        self._address = address
        self._log_line = log  # None: the meshgate.echo logger, at DEBUG
        self._port = port
        self._h2c_port = h2c_port
        self._tls_port = tls_port
        self._tls_context = tls_context
        self.pod = pod
        self.namespace = namespace
        self.service = service
        self.ingress = ingress
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._seen: list[str] = []
        self._retries: OrderedDict[bytes, int] = OrderedDict()  # uuid -> failed attempts (/retry/)
        self._conns: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._extra: dict[str, tuple[_HTTPServer, threading.Thread]] = {}  # "h2c", "tls"

    # -- public API ------------------------------------------------------

    @property
    def address(self) -> str:
        """The address served on."""
        if self._httpd is not None:
            return str(self._httpd.server_address[0])
        return self._address

    @property
    def port(self) -> int:
        """The bound port (the requested one until :meth:`start`)."""
        if self._httpd is not None:
            return int(self._httpd.server_address[1])
        return self._port

    @property
    def h2c_port(self) -> int | None:
        """The bound h2c port (the requested one until :meth:`start`; None without one)."""
        return self._bound("h2c", self._h2c_port)

    @property
    def tls_port(self) -> int | None:
        """The bound TLS port (the requested one until :meth:`start`; None without one)."""
        return self._bound("tls", self._tls_port)

    def _bound(self, name: str, requested: int | None) -> int | None:
        if name in self._extra:
            return int(self._extra[name][0].server_address[1])
        return requested

    @property
    def context(self) -> PodContext:
        """What every answer reports about where it came from."""
        return PodContext(self.namespace, self.ingress, self.service, self.pod)

    @property
    def requests_seen(self) -> list[str]:
        """A snapshot of the echoed request targets, oldest first."""
        with self._lock:
            return list(self._seen)

    def retry_attempts(self, uuid: str) -> int:
        """How many requests with this uuid the ``/retry/`` simulation has failed so far."""
        with self._lock:
            return self._retries.get(uuid.encode("utf-8"), 0)

    def start(self) -> None:
        """Bind and serve in a daemon thread; returns once the socket is listening."""
        if self._httpd is not None:
            raise RuntimeError("echo server already started")
        self._stopping.clear()
        extra: list[tuple[str, _HTTPServer]] = []
        httpd = _HTTPServer((self._address, self._port), self)
        try:
            if self._h2c_port is not None:
                extra.append(("h2c", _HTTPServer((self._address, self._h2c_port), self, H2CHandler)))
            if self._tls_port is not None:
                extra.append(("tls", _HTTPServer((self._address, self._tls_port), self, tls=self._tls_context)))
        except OSError:
            for _, srv in extra:
                srv.server_close()
            httpd.server_close()
            raise
        self._httpd = httpd
        self._thread = self._serve(httpd, f"echo-{self.port}")
        self._extra = {name: (srv, self._serve(srv, f"echo-{name}-{srv.server_address[1]}")) for name, srv in extra}

    @staticmethod
    def _serve(httpd: _HTTPServer, name: str) -> threading.Thread:
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Close the listening socket and open connections; wait (bounded) for the threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        deadline = time.monotonic() + _STOP_TIMEOUT
        self._stopping.set()
        listeners = [(httpd, thread), *self._extra.values()]
        for srv, t in listeners:
            if t is not None and t.is_alive():
                srv.shutdown()  # the accept loop notices within poll_interval
            srv.server_close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            workers = list(self._workers)
        for _, t in listeners:
            if t is not None:
                t.join(max(0.0, deadline - time.monotonic()))
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
        self._httpd = None
        self._thread = None
        self._extra = {}

    def __enter__(self) -> Self:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EchoServer({self.address!r}, {self.port}, pod={self.pod!r}, namespace={self.namespace!r})"

    # -- used by the handler ---------------------------------------------

    def _retry_fails(self, uuid: bytes, succeed_after: int) -> bool:
        """Count one ``/retry/`` request of `uuid`: True when it is to fail (upstream's check)."""
        with self._lock:
            failed = self._retries.pop(uuid, 0)
            if failed < succeed_after:
                failed += 1
                fail = True
            else:
                fail = False
            self._retries[uuid] = failed  # most recent last
            while len(self._retries) > MAX_RETRY_SESSIONS:
                self._retries.popitem(last=False)
            return fail

    def _saw(self, target: str) -> None:
        with self._lock:
            self._seen.append(_text(target))

    def _log(self, line: str) -> None:
        if self._log_line is None:
            _logger.debug("%s", line)
            return
        with self._log_lock:
            try:
                self._log_line(line)
            except (OSError, ValueError):
                pass

    def _register_conn(self, conn: socket.socket) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            self._conns.add(conn)
            return True

    def _unregister_conn(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    def _add_worker(self, t: threading.Thread) -> None:
        with self._lock:
            self._workers.add(t)

    def _drop_worker(self, t: threading.Thread) -> None:
        with self._lock:
            self._workers.discard(t)


def to_stderr(line: str) -> None:
    """Write one log line to stderr at once (``meshgate echo``'s request log)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def serve_forever(address: str, port: int, pod: str, namespace: str, options: EchoOptions | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly and return (for ``meshgate echo``); `options`
    picks the mode and extra ports (modes.py), plain HTTP on `port` without them."""
    from .modes import EchoOptions, start_backends  # modes imports this module

    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    backends: list[Any] = []
    try:
        backends, urls = start_backends(address, port, PodContext(namespace, "", "", pod), options or EchoOptions(),
                                        log=to_stderr)
        for url in urls:
            print(f"echo listening on {url} (pod {pod}, namespace {namespace})", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for backend in backends:
            backend.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
