"""The Gateway API conformance echo backend ("echo-basic" behaviour), ARCHITECTURE §6.

A plain HTTP/1.1 server that answers like the upstream conformance backend
(kubernetes-sigs/gateway-api, ``conformance/echo-basic``): every request is
answered with a JSON description of itself, which is what the conformance
tests assert on.

Behaviour of the upstream HTTP port reproduced here:

* ``/health`` answers ``200 OK`` (text); ``/status/NNN`` answers status NNN
  with an empty body (400 when the request target is not exactly
  ``/status/`` and three digits); every other path is echoed.
* Path routing follows Go's ``net/http`` ServeMux as upstream uses it: a
  doubled ``//`` counts as ``/``, paths with ``.``/``..`` segments are
  redirected (301) to their cleaned form, ``/status`` redirects to
  ``/status/``, ``OPTIONS *`` gets an empty 200.
* The echo is ``200`` with ``Content-Type: application/json`` and
  ``X-Content-Type-Options: nosniff``; its body is indented JSON with
  ``path`` (the request target as received, query included), ``host`` (the
  Host header as received, port included), ``method``, ``proto``,
  ``headers`` (canonical header name -> list of values, without Host),
  ``namespace``, ``ingress``, ``service``, ``pod`` and ``sni`` (the last
  three are always empty here; ``tls`` appears only on TLS ports, which this
  server does not have).
* ``X-Echo-Set-Header: Name:value, Other:value`` sets response headers.
* ``/retry/...?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]`` is
  upstream's flaky backend for the retry tests: the first N requests with
  uuid U fail (after waiting D, when given), with status C or, without
  ``responseCode``, by resetting the connection (TCP RST, no response); later
  ones are echoed.  The count is kept per server (per Pod), for the last
  :data:`MAX_RETRY_SESSIONS` uuids; :meth:`EchoServer.retry_attempts` reads it.
  Unlike upstream, a delayed failure does not hold up other uuids' requests.
* ``?delay=<Go duration>`` (``500ms``, ``1.5s``) waits that long before
  answering, at most :data:`MAX_DELAY` seconds; an unparsable duration is
  answered with ``500`` and ``{"message": "<Go's error text>"}``.
* One log line per echoed request, ``Echoing back request made to <target>
  to client (<addr>)``, which the conformance mirror checks look for.
  ``meshgate echo`` writes it to stderr (upstream writes it to stdout; in a pod
  both end up in the container log).  An :class:`EchoServer` inside another
  program (``meshgate run --echo``, tests) logs it on the ``meshgate.echo``
  logger at DEBUG, so that backends stay out of that program's own output,
  unless given another ``log``.

Malformed requests get the terse answers Go's server gives (``400 Bad
Request`` with ``Connection: close``) and the server keeps serving others.
The request body is read and discarded before answering, so connections
stay reusable.  Not reproduced: the h2c port, TLS, the ``/ws`` WebSocket
echo and the ``/backendTLS`` SNI sniffing (``sni`` is always empty).
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["MAX_DELAY", "MAX_RETRY_SESSIONS", "EchoServer", "serve_forever", "to_stderr"]

_logger = logging.getLogger("meshgate.echo")

#: Upper bound, in seconds, on the ``delay`` a request can ask for.
MAX_DELAY = 60.0
#: How many uuids the ``/retry/`` simulation remembers (the oldest are forgotten first).
MAX_RETRY_SESSIONS = 100_000

_MAX_HEAD_BYTES = (1 << 20) + 4096  # Go: DefaultMaxHeaderBytes plus its 4 KiB slack
_MAX_LINE = 64 * 1024
_MAX_FORM_BYTES = 10 << 20  # Go: maxFormSize for url-encoded bodies
_MAX_CHUNK_LINE = 4096
_READ_SIZE = 64 * 1024
_STOP_TIMEOUT = 5.0

_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HOST_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!$%&'()*+,-.:;=[]_~")
_STATUS_PATH = re.compile(r"/status/([0-9]{3})")
_GO_INT = re.compile(rb"[+-]?[0-9]+")  # what Go's strconv.Atoi takes
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_TIME_UNITS = {
    b"ns": 1,
    b"us": 1_000,
    "µs".encode(): 1_000,  # U+00B5 micro sign
    "μs".encode(): 1_000,  # U+03BC Greek mu
    b"ms": 1_000_000,
    b"s": 1_000_000_000,
    b"m": 60_000_000_000,
    b"h": 3_600_000_000_000,
}
_STATUS_TEXT_OVERRIDES = {414: "Request URI Too Long", 418: "I'm a teapot"}  # Go's spellings


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    # Go's JSON encoder turns every invalid UTF-8 byte into its own U+FFFD.
    assert isinstance(err, UnicodeDecodeError)
    return "\ufffd" * (err.end - err.start), err.end


codecs.register_error("meshgate.echo.go-replace", _go_replace)


def _text(raw: bytes | str) -> str:
    """Wire bytes (or their latin-1 str) as the text Go's JSON encoder would emit."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    return raw.decode("utf-8", "meshgate.echo.go-replace")


def _go_json(obj: Any, indent: int | None) -> bytes:
    """JSON as Go's encoding/json writes it (HTML-safe escapes, no trailing newline)."""
    if indent is None:
        out = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    else:
        out = json.dumps(obj, ensure_ascii=False, indent=indent)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(ch, esc)
    return out.encode("utf-8")


def _status_text(code: int) -> str:
    if code in _STATUS_TEXT_OVERRIDES:
        return _STATUS_TEXT_OVERRIDES[code]
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return f"status code {code}"


def _body_allowed(code: int) -> bool:
    return not (100 <= code <= 199 or code in (204, 304))


def _is_token(name: bytes | str) -> bool:
    if isinstance(name, str):
        name = name.encode("latin-1", "replace")
    return bool(name) and all(b in _TOKEN for b in name)


def _canonical(name: str) -> str:
    """Go's CanonicalMIMEHeaderKey for a valid token: ``x-header-set`` -> ``X-Header-Set``."""
    out = []
    upper = True
    for ch in name:
        if upper and "a" <= ch <= "z":
            ch = ch.upper()
        elif not upper and "A" <= ch <= "Z":
            ch = ch.lower()
        out.append(ch)
        upper = ch == "-"
    return "".join(out)


def _has_token(values: list[str], token: str) -> bool:
    return any(part.strip(" \t").lower() == token for v in values for part in v.split(","))


def _go_quote(s: bytes) -> str:
    """Go's time.quote: double quotes, with non-ASCII and control bytes as \\xNN."""
    out = ['"']
    for b in s:
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        else:
            if b in (0x22, 0x5C):
                out.append("\\")
            out.append(chr(b))
    out.append('"')
    return "".join(out)


def _parse_go_duration(value: bytes | str) -> int:
    """Go's time.ParseDuration, in nanoseconds; ValueError carries Go's error text."""
    s = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    orig = s
    invalid = ValueError("time: invalid duration " + _go_quote(orig))
    neg = False
    if s[:1] in (b"-", b"+"):
        neg = s[:1] == b"-"
        s = s[1:]
    if s == b"0":
        return 0
    if not s:
        raise invalid
    limit = 1 << 63
    total = 0
    i, n = 0, len(s)

    def digit(k: int) -> bool:
        return k < n and 0x30 <= s[k] <= 0x39

    while i < n:
        if not (s[i] == 0x2E or digit(i)):
            raise invalid
        start = i
        v = 0
        while digit(i):
            if v > limit // 10:
                raise invalid
            v = v * 10 + (s[i] - 0x30)
            if v > limit:
                raise invalid
            i += 1
        pre = i != start
        post = False
        f, scale = 0, 1.0
        if i < n and s[i] == 0x2E:
            i += 1
            fstart = i
            overflow = False
            while digit(i):
                if not overflow:
                    if f > (limit - 1) // 10:
                        overflow = True
                    else:
                        y = f * 10 + (s[i] - 0x30)
                        if y > limit:
                            overflow = True
                        else:
                            f = y
                            scale *= 10
                i += 1
            post = i != fstart
        if not pre and not post:
            raise invalid
        ustart = i
        while i < n and not (s[i] == 0x2E or digit(i)):
            i += 1
        if i == ustart:
            raise ValueError("time: missing unit in duration " + _go_quote(orig))
        unit_name = s[ustart:i]
        unit = _TIME_UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f"time: unknown unit {_go_quote(unit_name)} in duration {_go_quote(orig)}")
        if v > limit // unit:
            raise invalid
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > limit:
                raise invalid
        total += v
        if total > limit:
            raise invalid
    if neg:
        return -total
    if total > limit - 1:
        raise invalid
    return total


def _unescape_query(part: bytes) -> bytes | None:
    """Go's url.QueryUnescape: ``+`` is a space; None on a bad ``%`` escape."""
    out = bytearray()
    i, n = 0, len(part)
    while i < n:
        b = part[i]
        if b == 0x25:  # %
            hexpair = part[i + 1:i + 3]
            if len(hexpair) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in hexpair):
                return None
            out.append(int(hexpair, 16))
            i += 3
            continue
        out.append(0x20 if b == 0x2B else b)
        i += 1
    return bytes(out)


def _parse_query(raw: bytes) -> dict[bytes, list[bytes]]:
    """Go's url.ParseQuery, skipping the pairs it rejects (``;`` separators, bad escapes)."""
    values: dict[bytes, list[bytes]] = {}
    for pair in raw.split(b"&"):
        if not pair or b";" in pair:
            continue
        key, _, val = pair.partition(b"=")
        k, v = _unescape_query(key), _unescape_query(val)
        if k is None or v is None:
            continue
        values.setdefault(k, []).append(v)
    return values


def _go_clean_path(p: str) -> str:
    """Go's net/http cleanPath: path.Clean, keeping a trailing slash."""
    if not p:
        return "/"
    if p[0] != "/":
        p = "/" + p
    segs: list[str] = []
    for seg in p.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segs:
                segs.pop()
            continue
        segs.append(seg)
    np = "/" + "/".join(segs)
    if p.endswith("/") and np != "/":
        np += "/"
    return np


def _valid_escapes(raw: bytes) -> bool:
    i = raw.find(b"%")
    while i != -1:
        pair = raw[i + 1:i + 3]
        if len(pair) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in pair):
            return False
        i = raw.find(b"%", i + 3)
    return True


class _Reject(Exception):
    """A request answered with one of Go's fixed error responses, then the connection closes."""

    def __init__(self, code: int = 400, detail: str = "", body: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.body = body


class _Gone(Exception):
    """The peer went away (or the server is stopping): close without answering."""


class _Request:
    __slots__ = (
        "authority_form",
        "chunked",
        "close",
        "continue_",
        "headers",
        "host",
        "keep_alive_10",
        "length",
        "method",
        "minor",
        "path",
        "proto",
        "query",
        "target",
    )
    # Set from the request line as soon as it is read, before anything else looks at the request.
    method: str
    target: str
    proto: str
    minor: int  # HTTP/1.x

    def __init__(self) -> None:
        self.headers: dict[str, list[str]] = {}
        self.host = ""
        self.path = ""
        self.query = ""
        self.authority_form = False
        self.chunked = False
        self.length = 0
        self.close = False
        self.keep_alive_10 = False
        self.continue_ = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    # -- connection lifecycle --------------------------------------------

    def setup(self) -> None:
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

        doc = {
            "path": _text(req.target),
            "host": _text(req.host),
            "method": _text(req.method),
            "proto": _text(req.proto),
            "headers": {name: [_text(v) for v in vals] for name, vals in sorted(req.headers.items())},
            "namespace": echo.namespace,
            "ingress": "",
            "service": "",
            "pod": echo.pod,
            "sni": "",
        }
        headers: dict[str, list[str]] = {}
        for spec in req.headers.get("X-Echo-Set-Header", []):
            for item in spec.split(","):
                name, _, value = item.strip(" \t\n\v\f\r").partition(":")
                if name.lower() in ("content-length", "transfer-encoding"):
                    continue  # would break the framing of this very response
                if headers.get(name):
                    headers[name][0] += "," + value.strip(" \t\n\v\f\r")
                else:
                    headers[name] = [value]
        headers["Content-Type"] = ["application/json"]
        headers["X-Content-Type-Options"] = ["nosniff"]
        self._send(req, 200, headers, _go_json(doc, indent=1))

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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], echo: EchoServer) -> None:
        self.echo = echo
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

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
    """The echo backend on one address and port, served from a background thread.

    ``requests_seen`` lists the request targets (path with query) of the requests
    echoed so far, in arrival order (the same requests the log line is written for:
    ``/health`` and ``/status/...`` probes are not included).
    """

    def __init__(self, address: str = "127.0.0.1", port: int = 0, pod: str = "", namespace: str = "",
                 log: Callable[[str], None] | None = None) -> None:
        self._address = address
        self._log_line = log  # None: the meshgate.echo logger, at DEBUG
        self._port = port
        self.pod = pod
        self.namespace = namespace
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._seen: list[str] = []
        self._retries: OrderedDict[bytes, int] = OrderedDict()  # uuid -> failed attempts (/retry/)
        self._conns: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

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
        httpd = _HTTPServer((self._address, self._port), self)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"echo-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and open connections; wait (bounded) for the threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        deadline = time.monotonic() + _STOP_TIMEOUT
        self._stopping.set()
        if thread is not None and thread.is_alive():
            httpd.shutdown()  # the accept loop notices within poll_interval
        httpd.server_close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            workers = list(self._workers)
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
        self._httpd = None
        self._thread = None

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


def serve_forever(address: str, port: int, pod: str, namespace: str) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly and return (for ``meshgate echo``)."""
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    try:
        with EchoServer(address, port, pod, namespace, log=to_stderr) as server:
            host = server.address
            shown = f"[{host}]" if ":" in host else host
            print(f"echo listening on http://{shown}:{server.port} (pod {pod}, namespace {namespace})", flush=True)
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
