"""The suite's clients for what is not HTTP/1.1: h2c with prior knowledge (roundtripper's
H2C_PRIOR_KNOWLEDGE), TLS handshakes with SNI and ALPN, WebSocket (x/net/websocket's Dial + Message),
TCP (utils/tcp: welcome, PING, IS_TLS, TEST), UDP (utils/udp's echo probe) and DNS (miekg/dns's
Exchange in the UDPRoute test). Each makes one attempt and returns what it saw; retrying until
consistent is the caller's (Checks.eventually, Checks.expect)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field

import aiohttp
import h2.config
import h2.connection
import h2.events
import h2.exceptions
from dnslib import DNSRecord

from .expect import Request
from .suite import Reply

TIMEOUT = 10.0
UDP_PROBE = b"gateway-api-conformance-udp-echo"  # what utils/udp sends
TCP_WELCOME = b"Gateway API Test TCP Server\n"


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def trusting(cert_pem: str | None) -> ssl.SSLContext:
    """A client context trusting `cert_pem` (None: the system's roots) as Go's tls.Config.RootCAs
    does: every certificate in the pool is a trust anchor, a CA-signed leaf too (the TLSRoute
    tests trust tls-checks-certificate itself), which OpenSSL allows only with partial chains."""
    if not cert_pem:
        return ssl.create_default_context()
    ctx = ssl.create_default_context(cadata=cert_pem)
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return ctx


def _tls_context(cert_pem: str | None, alpn: tuple[str, ...] = ()) -> ssl.SSLContext:
    ctx = trusting(cert_pem)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


# -- h2c ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class H2Answer:
    """What one HTTP/2 request got: :status, the response headers, the body and the trailers
    (header names lower case, values in order)."""

    status: int
    headers: dict[str, list[str]]
    data: bytes
    trailers: dict[str, list[str]]


def _fields(pairs: Iterable[tuple[bytes, bytes]] | None) -> tuple[int, dict[str, list[str]]]:
    """(:status, the other fields by name) of a header block."""
    status, out = 0, {}
    for name, value in pairs or []:
        n, v = name.decode("latin-1"), value.decode("latin-1")
        if n == ":status":
            status = int(v)
        else:
            out.setdefault(n, []).append(v)
    return status, out


def h2_exchange(sock: socket.socket, headers: list[tuple[str, str]], body: bytes = b"") -> H2Answer:
    """One request (pseudo-headers first in `headers`) on a new HTTP/2 connection over `sock`, which
    is connected already (plain: prior knowledge, or TLS with ALPN h2), until its stream ends."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, headers, end_stream=not body)
    if body:
        conn.send_data(stream, body, end_stream=True)
    sock.sendall(conn.data_to_send())
    status, got, trailers, data = 0, {}, {}, bytearray()
    for _ in range(10_000):  # bounded: a response is a handful of frames
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("HTTP/2 connection closed before the response ended")
        done = False
        try:
            events = conn.receive_data(chunk)
        except h2.exceptions.ProtocolError as exc:  # not HTTP/2 (an HTTP/1.1 answer): a failed request
            raise ConnectionError(f"HTTP/2 protocol error: {exc!r}") from exc
        for event in events:
            if getattr(event, "stream_id", stream) != stream:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                status, got = _fields(event.headers)
            elif isinstance(event, h2.events.TrailersReceived):
                trailers = _fields(event.headers)[1]
            elif isinstance(event, h2.events.DataReceived):
                data.extend(event.data or b"")
                conn.acknowledge_received_data(event.flow_controlled_length or 0, stream)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                done = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                raise ConnectionError(f"HTTP/2 connection terminated: {event.error_code}")
        sock.sendall(conn.data_to_send())
        if done:
            break
    return H2Answer(status, got, bytes(data), trailers)


def h2c_round_trip(address: str, request: Request, host: str, echo_set_headers: dict[str, str] | None = None,
                   timeout: float = TIMEOUT, cert_pem: str | None = None, server_name: str = "") -> Reply:
    """One request over HTTP/2 with prior knowledge (no Upgrade) to `address` ("ip:port"), `host`
    as :authority; with `cert_pem`, over TLS (ALPN h2, SNI `server_name`) trusting that certificate."""
    raw = socket.create_connection(_split(address), timeout=timeout)
    sock = _tls_context(cert_pem, ("h2",)).wrap_socket(raw, server_hostname=server_name) if cert_pem else raw
    with sock:
        headers = [(":method", request.method), (":scheme", "https" if cert_pem else "http"), (":authority", host),
                   (":path", request.path),
                   ("x-echo-set-header", ",".join(f"{k}:{v}" for k, v in (echo_set_headers or {}).items()))]
        headers += [(k.lower(), v) for k, v in request.headers.items()]
        answer = h2_exchange(sock, headers, request.body.encode())
    echo = None
    if answer.status == 200 and answer.headers.get("content-type") == ["application/json"]:
        try:
            echo = json.loads(answer.data)
        except ValueError:
            echo = None
    return Reply(answer.status, answer.headers, answer.data, echo)


# -- TLS ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TlsInfo:
    """What a client saw of a TLS handshake."""

    version: str
    alpn: str
    peer_cert_pem: str


def tls_handshake(address: str, server_name: str, cert_pem: str | None, alpn: tuple[str, ...] = (),
                  timeout: float = TIMEOUT) -> TlsInfo:
    """Handshake with SNI `server_name`, trusting `cert_pem` (None: the system's roots), offering `alpn`."""
    ctx = _tls_context(cert_pem, alpn)
    with socket.create_connection(_split(address), timeout=timeout) as raw, \
            ctx.wrap_socket(raw, server_hostname=server_name) as sock:
        der = sock.getpeercert(binary_form=True) or b""
        return TlsInfo(sock.version() or "", sock.selected_alpn_protocol() or "",
                       ssl.DER_cert_to_PEM_cert(der) if der else "")


def tls_rejection_problem(address: str, server_name: str, timeout: float = TIMEOUT) -> str | None:
    """One attempt of utils/tls's connection-rejection check: None when the Gateway closed the
    connection (EOF) or reset it during the handshake; else what happened instead (a refused
    connection or a failed certificate check count as not rejected, as upstream's isConnectionRejected)."""
    try:
        with socket.create_connection(_split(address), timeout=timeout) as raw, \
                ssl.create_default_context().wrap_socket(raw, server_hostname=server_name):
            return "the TLS handshake completed"
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError):
        return None
    except ssl.SSLError as exc:
        if "EOF" in str(exc):  # OpenSSL's "unexpected eof while reading"
            return None
        return f"{type(exc).__name__}: {exc}"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


# -- WebSocket ------------------------------------------------------------------------------------

def websocket_echo(address: str, messages: list[str | bytes], path: str = "/ws", origin: str = "ws://gateway/",
                   timeout: float = TIMEOUT) -> list[str | bytes]:
    """Dial ws://address/path with `origin`, send each message (text or binary) and read one reply
    each, as the HTTPRouteBackendProtocolWebSocket test does."""
    async def run() -> list[str | bytes]:
        out: list[str | bytes] = []
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session, \
                session.ws_connect(f"ws://{address}{path}", origin=origin, autoping=True) as ws:
            for message in messages:
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_str(message)
                reply = await ws.receive(timeout=timeout)
                if reply.type == aiohttp.WSMsgType.TEXT:
                    out.append(str(reply.data))
                elif reply.type == aiohttp.WSMsgType.BINARY:
                    out.append(bytes(reply.data))
                else:
                    raise ConnectionError(f"websocket: got {reply.type.name} instead of a message")
        return out
    return asyncio.run(run())


# -- TCP ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TcpReply:
    """One pass of utils/tcp's WaitForValidTCPResponse: the welcome line, the PING, IS_TLS and TEST
    answers (TEST parsed)."""

    welcome: bytes
    pong: bytes
    is_tls: bytes
    test: dict = field(default_factory=dict)


def tcp_echo(address: str, cert_pem: str | None = None, server_name: str = "", timeout: float = TIMEOUT) -> TcpReply:
    """Talk to the TCP echo (through a TCPRoute, or TLS passthrough with `cert_pem` and SNI)."""
    raw = socket.create_connection(_split(address), timeout=timeout)
    sock: socket.socket = raw
    try:
        if cert_pem is not None:
            sock = _tls_context(cert_pem).wrap_socket(raw, server_hostname=server_name or None)
        rfile = sock.makefile("rb")
        welcome = rfile.readline(4096)
        answers = []
        for line in (b"PING\n", b"IS_TLS\n", b"TEST\n"):
            sock.sendall(line)
            answers.append(rfile.readline(1 << 20))
        return TcpReply(welcome, answers[0], answers[1], json.loads(answers[2]) if answers[2] else {})
    finally:
        sock.close()


def tcp_problem(reply: TcpReply, backend: str, namespace: str, backend_is_tls: bool = False,
                server_name: str = "") -> str | None:
    """utils/tcp's assertions on one pass; None when they hold."""
    if reply.welcome != TCP_WELCOME:
        return f"welcome message {reply.welcome!r}"
    if reply.pong != b"PONG\n":
        return f"PING answered {reply.pong!r}"
    if reply.is_tls.rstrip(b"\n") != (b"true" if backend_is_tls else b"false"):
        return f"IS_TLS answered {reply.is_tls!r}"
    if reply.test.get("namespace") != namespace:
        return f"namespace {reply.test.get('namespace')!r}, expected {namespace!r}"
    if not str(reply.test.get("pod", "")).startswith(backend + "-"):
        return f"pod {reply.test.get('pod')!r} is not of {backend}"
    if server_name and (reply.test.get("tls") or {}).get("serverName") != server_name:
        return f"SNI seen by the backend {(reply.test.get('tls') or {}).get('serverName')!r}, expected {server_name!r}"
    return None


# -- UDP and DNS ----------------------------------------------------------------------------------

def udp_echo(address: str, payload: bytes = UDP_PROBE, timeout: float = TIMEOUT) -> dict:
    """One datagram to the UDP echo and its JSON answer (utils/udp's probe)."""
    family = socket.AF_INET6 if address.startswith("[") else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect(_split(address))
        sock.send(payload)
        return json.loads(sock.recv(1024))


def dns_query(address: str, name: str = "foo.bar.com.", qtype: str = "A", timeout: float = TIMEOUT) -> DNSRecord:
    """One DNS query over UDP (miekg/dns's Exchange) and the parsed answer."""
    host, port = _split(address)
    return DNSRecord.parse(DNSRecord.question(name, qtype).send(host, port, timeout=timeout))
