"""echo-basic's TCP mode (TCP_ECHO_SERVER), what the TCPRoute and TLSRoute passthrough tests talk to.

On connect the server writes ``Gateway API Test TCP Server\\n``, then answers line by line:
``PING`` → ``PONG``, ``IS_TLS`` → ``true``/``false``, ``TEST`` → one line of JSON (the pod context
with ``tcpport`` and ``tlsport``, ``isTLS``, and on the TLS port ``tls``: ``version`` as Go's
tls.VersionName spells it, ``serverName``, ``negotiatedProtocol``, ``cipherSuite``); other lines
are ignored. The TLS port (a certificate given) serves the same over TLS, without ALPN.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import threading
from typing import Any

from .answer import PodContext, go_cipher_name, server_name
from .tls import handshake

WELCOME = b"Gateway API Test TCP Server\n"
_MAX_LINE = 64 * 1024  # Go's bufio.Scanner token limit: a longer line ends the connection
_GO_VERSION_NAMES = {"TLSv1.3": "TLS 1.3", "TLSv1.2": "TLS 1.2", "TLSv1.1": "TLS 1.1", "TLSv1": "TLS 1.0"}


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], owner: TcpEchoServer, tls: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.tls = tls
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a peer that goes away is not an error worth a traceback


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        tls = self.server.tls
        if tls is not None:
            wrapped = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            if not handshake(wrapped):
                return
            sock = wrapped
        owner = self.server.owner
        with owner._lock:
            owner._conns.add(sock)
        try:
            self._serve(sock, owner)
        except OSError:
            pass
        finally:
            with owner._lock:
                owner._conns.discard(sock)

    def _serve(self, sock: socket.socket, owner: TcpEchoServer) -> None:
        is_tls = isinstance(sock, ssl.SSLSocket)
        payload = json.dumps(owner.assertions(sock if isinstance(sock, ssl.SSLSocket) else None),
                             separators=(",", ":")).encode() + b"\n"
        sock.sendall(WELCOME)
        rfile = sock.makefile("rb")
        while True:
            line = rfile.readline(_MAX_LINE + 1)
            if not line or (len(line) > _MAX_LINE and not line.endswith(b"\n")):
                return
            text = line.rstrip(b"\n").rstrip(b"\r")  # Go's ScanLines drops the \r too
            if text == b"TEST":
                sock.sendall(payload)
            elif text == b"IS_TLS":
                sock.sendall(b"true\n" if is_tls else b"false\n")
            elif text == b"PING":
                sock.sendall(b"PONG\n")


class TcpEchoServer:
    """The TCP echo on a plain port and, with `tls`, a TLS port."""

    def __init__(self, address: str, port: int, context: PodContext, *, tls_port: int | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        if (tls_port is None) != (tls is None):
            raise ValueError("a TLS port needs a TLS context, and the other way round")
        self._address = address
        self._requested = (port, tls_port)
        self.context = context
        self._tls = tls
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._servers: list[tuple[_Server, threading.Thread]] = []
        self.port = port
        self.tls_port = tls_port

    def assertions(self, sock: ssl.SSLSocket | None) -> dict[str, Any]:
        """The TEST answer for a connection (upstream's TCPAssertions)."""
        c = self.context
        doc: dict[str, Any] = {"namespace": c.namespace, "ingress": c.ingress, "service": c.service, "pod": c.pod,
                               "tcpport": str(self._requested[0])}
        if self._requested[1] is not None:
            doc["tlsport"] = str(self._requested[1])
        doc["isTLS"] = sock is not None
        if sock is not None:
            cipher = sock.cipher()
            tls: dict[str, Any] = {"version": _GO_VERSION_NAMES.get(sock.version() or "", sock.version() or ""),
                                   "serverName": server_name(sock)}
            if sock.selected_alpn_protocol():
                tls["negotiatedProtocol"] = sock.selected_alpn_protocol()
            tls["cipherSuite"] = go_cipher_name(cipher[0]) if cipher else ""
            doc["tls"] = tls
        return doc

    def start(self) -> None:
        """Bind both ports and serve each from a daemon thread."""
        port, tls_port = self._requested
        servers = [_Server((self._address, port), self, None)]
        if tls_port is not None:
            try:
                servers.append(_Server((self._address, tls_port), self, self._tls))
            except OSError:
                servers[0].server_close()
                raise
        self.port = servers[0].server_address[1]
        if tls_port is not None:
            self.tls_port = servers[1].server_address[1]
        # the reported ports are the bound ones (port 0 in tests)
        self._requested = (self.port, self.tls_port)
        for srv in servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                 name=f"echo-tcp-{srv.server_address[1]}")
            t.start()
            self._servers.append((srv, t))

    def stop(self) -> None:
        """Close the ports and every open connection."""
        for srv, t in self._servers:
            srv.shutdown()
            srv.server_close()
            t.join(5)
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._servers = []
