"""Go's net/http behaviour the echo backend reproduces: status texts, header canonicalisation,
query and path parsing, durations, JSON spelling, and the limits Go's server applies."""

from __future__ import annotations

import codecs
import json
import logging
import re
from http import HTTPStatus
from typing import Any

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
