"""HTTP/2 for the echo backend: echo-basic's h2c port (3001, prior knowledge) and HTTP/2 on its TLS
port when the client negotiates ``h2`` by ALPN.

The answer is the same JSON echo as on HTTP/1.1, with ``proto`` ``HTTP/2.0``, ``host`` from
``:authority``, ``path`` from ``:path`` and the regular headers (pseudo-headers left out, names
in Go's canonical form), as Go's HTTP/2 server fills a Request. Upstream's h2c port echoes every
path; on the TLS port ``/health`` and ``/status/NNN`` answer as on HTTP/1.1. A request that is not
HTTP/2 on the h2c port is answered ``400 Expected h2c request`` (upstream also accepts the
deprecated ``Upgrade: h2c`` handshake; this server does not). ``?delay=`` and
``X-Echo-Set-Header`` work as on HTTP/1.1; each request is answered from its own thread, so a
delayed one does not hold up the others on the connection.
"""

from __future__ import annotations

import socket
import threading
import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from .answer import assertions, echo_set_headers
from .go import _MAX_FORM_BYTES, _STATUS_PATH, MAX_DELAY, _canonical, _go_json, _parse_go_duration, _parse_query

if TYPE_CHECKING:
    from .server import EchoServer

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_READ = 65536
_JSON = {"content-type": "application/json", "x-content-type-options": "nosniff"}


def not_h2c_answer() -> bytes:
    """What upstream's h2c port answers an HTTP/1.x request."""
    body = b"Expected h2c request"
    return (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def read_preface(sock: socket.socket) -> bytes | None:
    """Read as much as the client sends of the HTTP/2 preface; the bytes when it is one, None when
    the connection carries something else (or closes first)."""
    got = b""
    while len(got) < len(PREFACE):
        chunk = sock.recv(len(PREFACE) - len(got))
        if not chunk:
            return None
        got += chunk
        if not PREFACE.startswith(got):
            return None
    return got


class H2Connection:
    """One server-side HTTP/2 connection on a connected socket, served until it closes."""

    def __init__(self, sock: socket.socket, echo: EchoServer, *, routes: bool,
                 tls: dict[str, Any] | None = None) -> None:
        self.sock = sock
        self.echo = echo
        self.routes = routes
        self.tls = tls
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=False))
        self.lock = threading.Lock()
        self.requests: dict[int, tuple[list[tuple[bytes, bytes]], bytearray]] = {}
        self.pending: dict[int, bytes] = {}  # response body bytes waiting for flow-control window

    def serve(self, already_read: bytes = b"") -> None:
        """Run the connection: `already_read` is what was taken off the socket before (the preface)."""
        with self.lock:
            self.conn.initiate_connection()
            self._flush_out()
        data = already_read
        while not self.echo._stopping.is_set():
            if not data:
                try:
                    data = self.sock.recv(_READ)
                except OSError:
                    return
                if not data:
                    return
            with self.lock:
                try:
                    events = self.conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self._flush_out()
                    return
            data = b""
            for event in events:
                if not self._on_event(event):
                    return
            with self.lock:
                self._flush_out()

    def _on_event(self, event: h2.events.Event) -> bool:
        if isinstance(event, h2.events.RequestReceived):
            self.requests[event.stream_id] = (list(event.headers or []), bytearray())
        elif isinstance(event, h2.events.DataReceived):
            entry = self.requests.get(event.stream_id)
            if entry is not None and len(entry[1]) <= _MAX_FORM_BYTES:
                entry[1].extend(event.data or b"")
            with self.lock:
                self.conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            entry = self.requests.pop(event.stream_id, None)
            if entry is not None:
                worker = threading.Thread(target=self._answer, args=(event.stream_id, *entry), daemon=True,
                                          name=f"echo-h2-{event.stream_id}")
                self.echo._add_worker(worker)
                worker.start()
        elif isinstance(event, h2.events.StreamReset):
            self.requests.pop(event.stream_id, None)
            self.pending.pop(event.stream_id, None)
        elif isinstance(event, h2.events.WindowUpdated):
            with self.lock:
                for stream_id in list(self.pending):
                    self._send_body(stream_id, self.pending.pop(stream_id))
        elif isinstance(event, h2.events.ConnectionTerminated):
            return False
        return True

    # -- one request ----------------------------------------------------------------------------

    def _answer(self, stream_id: int, raw: list[tuple[bytes, bytes]], body: bytearray) -> None:
        try:
            status, headers, payload = self._respond(raw, bytes(body))
            with self.lock:
                fields = [(":status", str(status)), *headers,
                          ("date", formatdate(time.time(), usegmt=True))]
                if status not in (204, 304):
                    fields.append(("content-length", str(len(payload))))
                try:
                    self.conn.send_headers(stream_id, fields, end_stream=not payload)
                    if payload:
                        self._send_body(stream_id, payload)
                except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                    return
                self._flush_out()
        finally:
            self.echo._drop_worker(threading.current_thread())

    def _respond(self, raw: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        pseudo: dict[str, str] = {}
        headers: dict[str, list[str]] = {}
        for name_b, value_b in raw:
            name, value = name_b.decode("latin-1"), value_b.decode("latin-1")
            if name.startswith(":"):
                pseudo[name] = value
            elif name != "host" or ":authority" in pseudo:
                headers.setdefault(_canonical(name), []).append(value)
        method, target = pseudo.get(":method", "GET"), pseudo.get(":path", "/")
        host = pseudo.get(":authority") or (headers.pop("Host", [""])[0])
        path, _, query = target.partition("?")
        if self.routes and path == "/health":
            return 200, [("content-type", "text/plain; charset=utf-8")], b"OK"
        if self.routes and path.startswith("/status/"):
            m = _STATUS_PATH.fullmatch(target)
            return (int(m.group(1)) if m else 400), [], b""
        echo = self.echo
        echo._saw(target)
        echo._log(f"Echoing back request made to {target} to client ({self._remote()})")
        delay = self._delay(method, headers, body, query)
        if isinstance(delay, str):
            return 500, list(_JSON.items()), _go_json({"message": delay}, indent=None)
        if delay > 0 and echo._stopping.wait(min(delay, MAX_DELAY)):
            return 503, [], b""
        doc = assertions(target=target, host=host, method=method, proto="HTTP/2.0", headers=headers,
                         context=echo.context, tls=self.tls)
        out = [(name.lower(), value) for name, values in echo_set_headers(headers.get("X-Echo-Set-Header", [])).items()
               for value in values if name and name.lower() not in _JSON]
        return 200, out + list(_JSON.items()), _go_json(doc, indent=1)

    @staticmethod
    def _delay(method: str, headers: dict[str, list[str]], body: bytes, query: str) -> float | str:
        """Seconds to wait (Go's FormValue("delay"): a url-encoded body first), or Go's error text."""
        values: list[bytes] = []
        content_type = (headers.get("Content-Type") or [""])[0].partition(";")[0].strip().lower()
        if method in ("POST", "PUT", "PATCH") and content_type == "application/x-www-form-urlencoded":
            values += _parse_query(body).get(b"delay", [])
        values += _parse_query(query.encode("latin-1")).get(b"delay", [])
        if not values or not values[0]:
            return 0.0
        try:
            return _parse_go_duration(values[0]) / 1e9
        except ValueError as err:
            return str(err)

    def _remote(self) -> str:
        try:
            addr = self.sock.getpeername()
        except OSError:
            return "?"
        return f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"

    # -- writing (the caller holds self.lock) ------------------------------------------------------

    def _send_body(self, stream_id: int, payload: bytes) -> None:
        while payload:
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.pending[stream_id] = payload  # sent on the next WINDOW_UPDATE
                return
            chunk, payload = payload[:window], payload[window:]
            self.conn.send_data(stream_id, chunk, end_stream=not payload)

    def _flush_out(self) -> None:
        out = self.conn.data_to_send()
        if out:
            try:
                self.sock.sendall(out)
            except OSError:
                pass


class H2CHandler:
    """The connection handler of the h2c port (socketserver style: constructed per connection)."""

    def __init__(self, request: socket.socket, client_address: Any, server: Any) -> None:
        echo: EchoServer = server.echo
        if not echo._register_conn(request):
            return
        try:
            request.settimeout(None)
            first = read_preface(request)
            if first is None:
                request.sendall(not_h2c_answer())
                return
            H2Connection(request, echo, routes=False).serve(first)
        except OSError:
            pass
        finally:
            echo._unregister_conn(request)
