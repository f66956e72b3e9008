"""The request handler: routes a request as upstream's echo-basic does (health, status, retry,
redirects of unclean paths) and answers with its JSON description."""

from __future__ import annotations

import socket
import ssl
import struct
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from .answer import assertions, echo_set_headers, tls_assertions
from .go import (
    _GO_INT,
    _HOST_BYTES,
    _MAX_CHUNK_LINE,
    _MAX_FORM_BYTES,
    _MAX_HEAD_BYTES,
    _MAX_LINE,
    _READ_SIZE,
    _SCHEME,
    _STATUS_PATH,
    MAX_DELAY,
    _body_allowed,
    _canonical,
    _go_clean_path,
    _go_json,
    _has_token,
    _is_token,
    _parse_go_duration,
    _parse_query,
    _status_text,
    _text,
    _valid_escapes,
)
from .request import _Gone, _Reject, _Request
from .tls import handshake
from .websocket import echo_frames, handshake_problem, upgrade_response

if TYPE_CHECKING:
    from .server import _HTTPServer  # the server that created this handler (it imports this module)

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    # -- connection lifecycle --------------------------------------------

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket) and not handshake(self.request):
            self.request.close()  # rfile/wfile are still made on it: they fail at once, as wanted
        super().setup()
        if not self.server.echo._register_conn(self.connection):
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self) -> None:
        self.server.echo._unregister_conn(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def handle(self) -> None:
        self.close_connection = True
        conn = self.connection
        if isinstance(conn, ssl.SSLSocket) and conn.selected_alpn_protocol() == "h2":
            from .h2c import H2Connection  # imported here: h2c imports nothing of this module

            H2Connection(conn, self.server.echo, routes=True, tls=tls_assertions(conn)).serve()
            return
        try:
            self.handle_one_request()
            while not self.close_connection:
                self.handle_one_request()
        except (OSError, _Gone):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # only the upstream "Echoing back ..." line is logged

    # -- one request -----------------------------------------------------

    def handle_one_request(self) -> None:
        self.close_connection = True
        try:
            req = self._read_head()
        except _Reject as rej:
            self._send_reject(rej)
            return
        if req is None:
            return
        try:
            self._dispatch(req)
        except _Reject as rej:
            self._send_reject(rej)
            self.close_connection = True

    def _readline(self, limit: int) -> bytes:
        return self.rfile.readline(limit)

    def _read_head(self) -> _Request | None:
        budget = _MAX_HEAD_BYTES
        line = self._readline(min(_MAX_LINE, budget) + 1)
        if not line:
            return None  # idle connection closed by the peer
        budget -= len(line)
        if not line.endswith(b"\n"):
            if len(line) > _MAX_LINE:
                raise _Reject(431)
            raise _Gone
        line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        req = _Request()
        method, sp1, rest = line.partition(b" ")
        target, sp2, proto = rest.partition(b" ")
        if not sp1 or not sp2 or not _is_token(method):
            raise _Reject(400)
        req.method = method.decode("latin-1")
        req.target = target.decode("latin-1")
        req.proto = proto.decode("latin-1")
        major, minor = self._parse_version(proto)
        req.minor = minor
        if major != 1:
            raise _Reject(505, "unsupported protocol version")
        self._parse_target(req, target)

        raw_headers: list[tuple[bytes, bytes]] = []
        while True:
            if budget <= 0:
                raise _Reject(431)
            line = self._readline(min(_MAX_LINE, budget) + 1)
            budget -= len(line)
            if not line.endswith(b"\n"):
                if budget < 0 or len(line) > _MAX_LINE:
                    raise _Reject(431)
                raise _Gone
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                break
            if line[:1] in (b" ", b"\t"):  # obsolete line folding
                if not raw_headers:
                    raise _Reject(400)
                key, prev = raw_headers[-1]
                raw_headers[-1] = (key, prev + b" " + line.strip(b" \t"))
                continue
            key, colon, value = line.partition(b":")
            if not colon or not key:
                raise _Reject(400)
            if any(b < 0x20 and b != 0x09 or b == 0x7F for b in value):
                raise _Reject(400)
            raw_headers.append((key, value.strip(b" \t")))
        for key, value in raw_headers:
            if not _is_token(key):
                raise _Reject(400, "invalid header name")
            name = _canonical(key.decode("latin-1"))
            req.headers.setdefault(name, []).append(value.decode("latin-1"))
        self._check_head(req)
        return req

    @staticmethod
    def _parse_version(proto: bytes) -> tuple[int, int]:
        if proto == b"HTTP/1.1":
            return 1, 1
        if proto == b"HTTP/1.0":
            return 1, 0
        if (len(proto) == 8 and proto.startswith(b"HTTP/") and proto[6:7] == b"."
                and proto[5:6].isdigit() and proto[7:8].isdigit()):
            return int(proto[5:6]), int(proto[7:8])
        raise _Reject(400)

    @staticmethod
    def _parse_target(req: _Request, target: bytes) -> None:
        if any(b < 0x20 or b == 0x7F for b in target):
            raise _Reject(400)
        text = target.decode("latin-1")
        if req.method == "CONNECT" and not text.startswith("/"):
            if not text:
                raise _Reject(400)
            req.authority_form = True
            req.host = text
            return
        if text == "*":
            req.path = "*"
            return
        rest = text
        if not text.startswith("/"):
            m = _SCHEME.match(text)
            if not m:
                raise _Reject(400)
            rest = text[m.end():]
            if not rest.startswith("/"):
                raise _Reject(400)  # Go: "invalid URI for request" (opaque form)
            if rest.startswith("//"):
                authority, slash, tail = rest[2:].partition("/")
                req.host = authority.rpartition("@")[2]
                rest = slash + tail
        path, _, query = rest.partition("?")
        if not _valid_escapes(path.encode("latin-1")):
            raise _Reject(400)
        req.path = path
        req.query = query

    @staticmethod
    def _check_head(req: _Request) -> None:
        h = req.headers
        hosts = h.pop("Host", None)
        if hosts is not None and len(hosts) > 1:
            raise _Reject(400, "too many Host headers")
        if req.minor >= 1 and hosts is None and req.method != "CONNECT":
            raise _Reject(400, "missing required Host header")
        if hosts and not all(b in _HOST_BYTES or b >= 0x80 for b in hosts[0].encode("latin-1")):
            raise _Reject(400, "malformed Host header")
        if not req.host:
            req.host = hosts[0] if hosts else ""

        te = h.pop("Transfer-Encoding", None)
        if te is not None and req.minor >= 1:
            if len(te) != 1 or te[0].lower() != "chunked":
                raise _Reject(501, body="Unsupported transfer encoding")
            req.chunked = True
            h.pop("Content-Length", None)
        lengths = h.get("Content-Length")
        if not req.chunked and lengths:
            first = lengths[0].strip(" \t")
            if any(v.strip(" \t") != first for v in lengths[1:]):
                raise _Reject(400)
            if not first.isascii() or not first.isdigit() or int(first) >= 1 << 63:
                raise _Reject(400)
            h["Content-Length"] = [first]
            req.length = int(first)

        conn = h.get("Connection", [])
        if req.minor == 0:
            req.keep_alive_10 = _has_token(conn, "keep-alive") and not _has_token(conn, "close")
            req.close = not req.keep_alive_10
        else:
            req.close = _has_token(conn, "close")

        expect = h.get("Expect")
        if expect:
            if _has_token(expect, "100-continue"):
                del h["Expect"]
                req.continue_ = req.minor >= 1 and (req.chunked or req.length > 0)
            else:
                raise _Reject(417)

    # -- body ------------------------------------------------------------

    def _read_body(self, req: _Request, keep: bool) -> bytes:
        """Read the whole request body; return it (bounded) only when ``keep``."""
        if req.continue_:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        kept = bytearray()

        def take(n: int) -> None:
            while n > 0:
                chunk = self.rfile.read(min(n, _READ_SIZE))
                if not chunk:
                    raise _Gone
                n -= len(chunk)
                if keep and len(kept) <= _MAX_FORM_BYTES:
                    kept.extend(chunk[:_MAX_FORM_BYTES + 1 - len(kept)])

        if not req.chunked:
            take(req.length)
            return bytes(kept)
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n"):
                if len(line) > _MAX_CHUNK_LINE:
                    raise _Reject(400)
                raise _Gone
            size_text = line.rstrip(b"\r\n").rstrip(b" \t").partition(b";")[0].rstrip(b" \t")
            if not size_text or len(size_text) > 16 or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                raise _Reject(400)
            size = int(size_text, 16)
            if size == 0:
                break
            take(size)
            if self.rfile.read(2) != b"\r\n":
                raise _Reject(400)
        trailer_budget = _MAX_HEAD_BYTES
        while True:  # trailers, discarded
            line = self.rfile.readline(_MAX_LINE + 1)
            trailer_budget -= len(line)
            if not line.endswith(b"\n"):
                if len(line) > _MAX_LINE:
                    raise _Reject(400)
                raise _Gone
            if line in (b"\r\n", b"\n"):
                break
            if trailer_budget < 0:
                raise _Reject(400)
        return bytes(kept)

    # -- routing (Go's ServeMux as upstream registers it) ----------------

    def _dispatch(self, req: _Request) -> None:
        if req.path == "*" and not req.authority_form:
            if req.method == "OPTIONS":
                self._read_body(req, keep=False)
                self._send(req, 200, {"Content-Length": ["0"]}, b"")
                return
            self._read_body(req, keep=False)
            self._send(req, 400, {"Connection": ["close"]} if req.minor >= 1 else {}, b"", force_close=True)
            return
        if req.authority_form:
            self._read_body(req, keep=False)
            self._send(req, 404, {"Content-Type": ["text/plain; charset=utf-8"],
                                  "X-Content-Type-Options": ["nosniff"]}, b"404 page not found\n")
            return
        # upstream's preserveSlashes wrapper, then ServeMux's clean-path redirects
        path = req.path.replace("//", "/")
        if req.method != "CONNECT":
            cleaned = _go_clean_path(path)
            if cleaned in ("/status", "/retry"):
                self._redirect(req, cleaned + "/")
                return
            if cleaned != path:
                self._redirect(req, cleaned)
                return
        if path == "/health":
            self._read_body(req, keep=False)
            self._send(req, 200, {}, b"OK", sniffed_type="text/plain; charset=utf-8")
        elif path.startswith("/status/"):
            self._status(req)
        elif path.startswith("/retry/"):
            self._retry(req)
        elif path == "/ws":
            self._websocket(req)
        else:
            self._echo(req)

    def _redirect(self, req: _Request, location: str) -> None:
        if req.query:
            location += "?" + req.query
        self._read_body(req, keep=False)
        headers = {"Location": [location]}
        body = b""
        if req.method in ("GET", "HEAD"):
            headers["Content-Type"] = ["text/html; charset=utf-8"]
        if req.method == "GET":
            href = (location.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace('"', "&#34;").replace("'", "&#39;"))
            body = f'<a href="{href}">Moved Permanently</a>.\n\n'.encode("latin-1")
        self._send(req, 301, headers, body)

    def _status(self, req: _Request) -> None:
        self._read_body(req, keep=False)
        m = _STATUS_PATH.fullmatch(req.target)
        self._send_code(req, int(m.group(1)) if m else 400)

    def _send_code(self, req: _Request, code: int) -> None:
        """An empty response with `code`, as Go's WriteHeader alone gives it."""
        if code < 100 or code > 999:
            raise _Gone  # Go panics on such a code: the connection just closes
        if 100 <= code <= 199 and code != 101:
            self.wfile.write(f"HTTP/1.1 {code} {_status_text(code)}\r\n\r\n".encode("latin-1"))
            code = 200
        self._send(req, code, {}, b"", force_close=code == 101)

    @staticmethod
    def _is_form(req: _Request) -> bool:
        content_type = (req.headers.get("Content-Type") or [""])[0].partition(";")[0].strip(" \t").lower()
        return req.method in ("POST", "PUT", "PATCH") and content_type == "application/x-www-form-urlencoded"

    def _wait_form_duration(self, req: _Request, body: bytes, key: bytes) -> bool:
        """Wait the Go duration of form value `key` (Go's FormValue: a url-encoded body first, then
        the query); False when it did not parse, after answering 500 as upstream does."""
        values: list[bytes] = []
        if self._is_form(req) and len(body) <= _MAX_FORM_BYTES:
            values += _parse_query(body).get(key, [])
        values += _parse_query(req.query.encode("latin-1")).get(key, [])
        if not values or not values[0]:
            return True
        try:
            nanos = _parse_go_duration(values[0])
        except ValueError as err:
            self._send(req, 500, {"Content-Type": ["application/json"], "X-Content-Type-Options": ["nosniff"]},
                       _go_json({"message": str(err)}, indent=None))
            return False
        if nanos > 0 and self.server.echo._stopping.wait(min(nanos / 1e9, MAX_DELAY)):
            raise _Gone
        return True

    def _retry(self, req: _Request) -> None:
        """Upstream's retry simulation: fail the first `succeedAfter` requests of a uuid."""
        body = self._read_body(req, keep=self._is_form(req))
        query = _parse_query(req.query.encode("latin-1"))
        text = "text/plain; charset=utf-8"  # what Go sniffs from these bodies
        uuid = (query.get(b"uuid") or [b""])[0]
        if not uuid:
            self._send(req, 400, {}, b"uuid is required", sniffed_type=text)
            return
        succeed_after = (query.get(b"succeedAfter") or [b""])[0]
        if not _GO_INT.fullmatch(succeed_after) or not -(1 << 63) <= int(succeed_after) < 1 << 63:
            self._send(req, 400, {}, b"succeedAfter is required", sniffed_type=text)
            return
        code_text = (query.get(b"responseCode") or [b""])[0]
        if not self.server.echo._retry_fails(uuid, int(succeed_after)):
            self._echo(req, body)
            return
        if not self._wait_form_duration(req, body, b"delayRetry"):
            return
        if _GO_INT.fullmatch(code_text):
            self._send_code(req, int(code_text))
            return
        # No responseCode: abort the connection with a TCP RST instead of answering.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        raise _Gone

    def _echo(self, req: _Request, body: bytes | None = None) -> None:
        echo = self.server.echo
        echo._saw(req.target)
        addr = self.client_address
        remote = f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"
        echo._log(f"Echoing back request made to {_text(req.target)} to client ({remote})")

        if body is None:
            body = self._read_body(req, keep=self._is_form(req))

        # ?delay=<duration>; like Go's FormValue, url-encoded POST/PUT/PATCH bodies take precedence
        if not self._wait_form_duration(req, body, b"delay"):
            return

        tls = tls_assertions(self.connection) if isinstance(self.connection, ssl.SSLSocket) else None
        doc = assertions(target=req.target, host=req.host, method=req.method, proto=req.proto, headers=req.headers,
                         context=echo.context, tls=tls)
        headers = echo_set_headers(req.headers.get("X-Echo-Set-Header", []))
        headers["Content-Type"] = ["application/json"]
        headers["X-Content-Type-Options"] = ["nosniff"]
        self._send(req, 200, headers, _go_json(doc, indent=1))

    def _websocket(self, req: _Request) -> None:
        """``/ws``: upgrade to a WebSocket echoing every message (websocket.py); refusals are written
        raw, as x/net/websocket does. The connection ends with the WebSocket."""
        self._read_body(req, keep=False)
        self.close_connection = True
        problem = handshake_problem(req.method, req.headers)
        if problem is not None:
            self.wfile.write(f"HTTP/1.1 {problem[0]} {_status_text(problem[0])}\r\n\r\n{problem[1]}".encode())
            return
        self.wfile.write(upgrade_response(req.headers))
        echo_frames(self.rfile, self.wfile.write)

    # -- writing ---------------------------------------------------------

    def _send(self, req: _Request, code: int, headers: dict[str, list[str]], body: bytes, *,
              sniffed_type: str | None = None, force_close: bool = False) -> None:
        is_head = req.method == "HEAD"
        lines = [f"HTTP/1.1 {code} {_status_text(code)}"]
        for name in sorted(headers):
            if not _is_token(name):
                continue  # Go drops invalid header names
            for value in headers[name]:
                clean = value.replace("\r", " ").replace("\n", " ").strip(" \t")
                lines.append(f"{name}: {clean}")
        if "Date" not in headers:
            lines.append("Date: " + formatdate(time.time(), usegmt=True))
        has_length = "Content-Length" in headers
        if not has_length and _body_allowed(code) and (not is_head or body):
            lines.append(f"Content-Length: {len(body)}")
            has_length = True
        if sniffed_type and "Content-Type" not in headers:
            lines.append("Content-Type: " + sniffed_type)
        close = req.close or force_close
        own_conn = headers.get("Connection", [])
        if own_conn and own_conn[0] == "close":
            close = True
        if req.keep_alive_10 and not close:
            if is_head or has_length or not _body_allowed(code):
                if "Connection" not in headers:
                    lines.append("Connection: keep-alive")
            else:
                close = True
        elif close and req.minor >= 1 and not _has_token(own_conn, "close"):
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        payload = head if is_head or not _body_allowed(code) else head + body
        self.wfile.write(payload)
        self.close_connection = close

    def _send_reject(self, rej: _Reject) -> None:
        text = f"{rej.code} {_status_text(rej.code)}"
        if rej.code == 417:
            head = (f"HTTP/1.1 {text}\r\nConnection: close\r\nDate: {formatdate(time.time(), usegmt=True)}\r\n"
                    "Content-Length: 0\r\n\r\n")
            self.wfile.write(head.encode("latin-1"))
            return
        status = text + (f": {rej.detail}" if rej.detail else "")
        body = (rej.body if rej.body is not None else status).encode("latin-1")
        self.wfile.write(
            (f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
             f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body)
