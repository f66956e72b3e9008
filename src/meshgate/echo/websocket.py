"""echo-basic's ``/ws`` endpoint: a WebSocket (RFC 6455) that sends every message back.

Upstream serves it with golang.org/x/net/websocket (``io.Copy(ws, ws)``); the
HTTPRouteBackendProtocolWebSocket test sends a text and a binary message through the Gateway and
expects each back unchanged. Here each data frame is echoed as a frame of the same opcode and
FIN bit (so fragmented messages come back fragmented alike), pings are answered with pongs and
a close frame is returned before the connection closes.

The handshake checks follow x/net/websocket: GET, ``Upgrade: websocket``, ``Connection``
containing ``upgrade``, a ``Sec-WebSocket-Key``, version 13 (400 otherwise), and an ``Origin``
(its Handler refuses a request without one with 403).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from typing import Protocol

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_FRAME = 16 << 20  # larger frames close the connection (1009, message too big)
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class _Reader(Protocol):
    def read(self, n: int, /) -> bytes: ...


class WebSocketClosed(Exception):
    """The peer closed the connection (or sent something that ends it)."""


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` answering a ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key.encode("latin-1") + _GUID).digest()).decode("ascii")


def handshake_problem(method: str, headers: dict[str, list[str]]) -> tuple[int, str] | None:
    """Why this request cannot become a WebSocket, as (status, message); None when it can."""
    def one(name: str) -> str:
        return (headers.get(name) or [""])[0]

    if method != "GET":
        return 405, "bad method"
    if one("Upgrade").lower() != "websocket" or "upgrade" not in one("Connection").lower():
        return 400, "not websocket protocol"
    if not one("Sec-Websocket-Key"):
        return 400, "mismatch challenge/response"
    if one("Sec-Websocket-Version") != "13":
        return 400, "missing or bad WebSocket Version"
    if not one("Origin"):
        return 403, "null origin"
    return None


def upgrade_response(headers: dict[str, list[str]]) -> bytes:
    """The 101 answer completing the handshake."""
    key = (headers.get("Sec-Websocket-Key") or [""])[0]
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode("latin-1")


def encode_frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None) -> bytes:
    """One frame; `mask` (4 bytes) masks it, as a client must."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head.append(mask_bit | n)
    elif n < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", n)
    if mask:
        head += mask
        payload = _unmask(payload, mask)
    return bytes(head) + payload


def _unmask(data: bytes, mask: bytes) -> bytes:
    # XOR with the repeated 4-byte key, as one big integer operation (fast without numpy)
    if not data:
        return data
    key = (mask * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(len(data), "big")


def _read_exact(rfile: _Reader, n: int) -> bytes:
    data = rfile.read(n)
    if len(data) != n:
        raise WebSocketClosed
    return data


def read_frame(rfile: _Reader) -> tuple[bool, int, bytes]:
    """The next frame as (fin, opcode, unmasked payload)."""
    b0, b1 = _read_exact(rfile, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _read_exact(rfile, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _read_exact(rfile, 8))[0]
    if n > MAX_FRAME:
        raise WebSocketClosed
    mask = _read_exact(rfile, 4) if b1 & 0x80 else b""
    payload = _read_exact(rfile, n)
    return bool(b0 & 0x80), b0 & 0x0F, _unmask(payload, mask) if mask else payload


def echo_frames(rfile: _Reader, write: Callable[[bytes], object]) -> None:
    """Echo frames until the peer closes (a close frame is answered first)."""
    while True:
        try:
            fin, opcode, payload = read_frame(rfile)
        except (WebSocketClosed, OSError):
            return
        if opcode == _CLOSE:
            write(encode_frame(_CLOSE, payload[:2]))
            return
        if opcode == _PING:
            write(encode_frame(_PONG, payload))
        elif opcode in (_TEXT, _BINARY, _CONTINUATION):
            write(encode_frame(opcode, payload, fin))
