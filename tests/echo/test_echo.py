"""The conformance echo backend (meshgate.echo), over real sockets on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from meshgate import echo
from meshgate.echo import EchoServer, _parse_go_duration

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 5.0
POD = "infra-backend-v1-7d9c6b5f4-ax0q"
NAMESPACE = "gateway-conformance-infra"


@pytest.fixture
def server() -> Iterator[EchoServer]:
    with EchoServer("127.0.0.1", 0, pod=POD, namespace=NAMESPACE) as srv:
        yield srv


def exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        out = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk


def parse(raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name, []).append(value.strip())
    return int(status_line.split(" ")[1]), headers, body


def request(port: int, method: str = "GET", target: str = "/", headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def echoed(port: int, target: str = "/", **kw: object) -> dict:
    resp, body = request(port, target=target, **kw)  # type: ignore[arg-type]
    assert resp.status == 200, body
    return json.loads(body)


# -- the echo ---------------------------------------------------------------

def test_json_shape_and_exact_content_type(server: EchoServer) -> None:
    resp, body = request(server.port, target="/some/path")
    assert resp.status == 200
    assert resp.getheaders().count(("Content-Type", "application/json")) == 1
    assert resp.getheader("Content-Type") == "application/json"
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    assert int(resp.getheader("Content-Length")) == len(body)
    doc = json.loads(body)
    assert list(doc) == ["path", "host", "method", "proto", "headers", "namespace", "ingress", "service", "pod", "sni"]
    assert doc["path"] == "/some/path"
    assert doc["method"] == "GET"
    assert doc["proto"] == "HTTP/1.1"
    assert doc["namespace"] == NAMESPACE
    assert doc["pod"] == POD
    assert "tls" not in doc
    assert all(isinstance(v, list) for v in doc["headers"].values())
    assert "Host" not in doc["headers"]  # Go keeps Host out of the header map
    # Go's json.MarshalIndent with a one-space indent
    assert body.startswith(b'{\n "path": "/some/path",\n "host": ')


def test_path_keeps_the_query_string(server: EchoServer) -> None:
    doc = echoed(server.port, "/q?a=1&b=two&b=3&empty")
    assert doc["path"] == "/q?a=1&b=two&b=3&empty"


def test_path_is_the_target_as_received(server: EchoServer) -> None:
    # doubled slashes are not redirected (upstream's preserveSlashes) and the echo shows them raw
    doc = echoed(server.port, "//double//slash?x=%2F")
    assert doc["path"] == "//double//slash?x=%2F"


def test_host_with_port_as_received(server: EchoServer) -> None:
    doc = echoed(server.port, headers={"Host": "example.com:8080"})
    assert doc["host"] == "example.com:8080"


def test_repeated_headers_become_lists(server: EchoServer) -> None:
    raw = exchange(server.port, b"GET / HTTP/1.1\r\nHost: h\r\nX-Multi: one\r\nX-Multi: two\r\n"
                                b"x-multi: three\r\nConnection: close\r\n\r\n")
    status, _, body = parse(raw)
    assert status == 200
    assert json.loads(body)["headers"]["X-Multi"] == ["one", "two", "three"]


def test_header_names_are_canonicalised_like_go(server: EchoServer) -> None:
    raw = exchange(server.port, b"GET / HTTP/1.1\r\nhost: h\r\nx-header-set: a\r\nuser-agent: ua/1\r\n"
                                b"X-FORWARDED-FOR: 10.0.0.1\r\ncontent-LENGTH: 0\r\nx-b3-traceid:  t  \r\n"
                                b"Connection: close\r\n\r\n")
    status, _, body = parse(raw)
    assert status == 200
    headers = json.loads(body)["headers"]
    assert headers == {
        "Connection": ["close"],
        "Content-Length": ["0"],
        "User-Agent": ["ua/1"],
        "X-B3-Traceid": ["t"],
        "X-Forwarded-For": ["10.0.0.1"],
        "X-Header-Set": ["a"],
    }
    assert list(headers) == sorted(headers)


def test_echo_set_header_sets_response_headers(server: EchoServer) -> None:
    raw = exchange(server.port, b"GET / HTTP/1.1\r\nHost: h\r\n"
                                b"X-Echo-Set-Header: X-Foo: bar, X-Baz:qux\r\n"
                                b"X-Echo-Set-Header: X-Foo:again,x-lower:kept\r\n"
                                b"Connection: close\r\n\r\n")
    status, headers, _ = parse(raw)
    assert status == 200
    assert headers["X-Foo"] == ["bar,again"]  # a repeated name is appended to the first value
    assert headers["X-Baz"] == ["qux"]
    assert headers["x-lower"] == ["kept"]  # names are used as given, not canonicalised
    assert headers["Content-Type"] == ["application/json"]


def test_echo_set_header_cannot_replace_content_type_or_break_framing(server: EchoServer) -> None:
    resp, body = request(server.port, headers={"X-Echo-Set-Header": "Content-Type:text/plain,Content-Length:1"})
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "application/json"
    assert int(resp.getheader("Content-Length")) == len(body)
    json.loads(body)


def test_delay_holds_the_response(server: EchoServer) -> None:
    start = time.monotonic()
    doc = echoed(server.port, "/slow?delay=200ms")
    assert time.monotonic() - start >= 0.2
    assert doc["path"] == "/slow?delay=200ms"


def test_delay_is_capped(server: EchoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(echo.handler, "MAX_DELAY", 0.05)  # where the handler reads it
    resp, _ = request(server.port, target="/?delay=1h")  # bounded by the client timeout either way
    assert resp.status == 200


def test_invalid_delay_is_a_500_with_gos_message(server: EchoServer) -> None:
    # upstream answers a ParseDuration error with 500 and {"message": err.Error()}
    resp, body = request(server.port, target="/?delay=abc")
    assert resp.status == 500
    assert resp.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"message": 'time: invalid duration "abc"'}
    resp, body = request(server.port, target="/?delay=5")
    assert resp.status == 500
    assert json.loads(body) == {"message": 'time: missing unit in duration "5"'}
    # and the server keeps serving
    assert echoed(server.port, "/after")["path"] == "/after"


def test_post_with_a_body_is_echoed_and_the_body_discarded(server: EchoServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("POST", "/upload", body=b"x" * 100_000, headers={"Content-Type": "application/octet-stream"})
        resp = conn.getresponse()
        doc = json.loads(resp.read())
        assert resp.status == 200
        assert doc["method"] == "POST"
        assert doc["headers"]["Content-Length"] == ["100000"]
        # chunked: Transfer-Encoding is not echoed (Go moves it out of the header map)
        conn.request("PUT", "/chunked", body=iter([b"hello ", b"world"]), encode_chunked=True)
        resp = conn.getresponse()
        doc = json.loads(resp.read())
        assert resp.status == 200
        assert doc["method"] == "PUT"
        assert "Transfer-Encoding" not in doc["headers"]
        # the connection is still usable: both bodies were consumed
        conn.request("GET", "/third")
        resp = conn.getresponse()
        assert json.loads(resp.read())["path"] == "/third"
    finally:
        conn.close()


def test_url_encoded_body_delay_is_honoured_like_formvalue(server: EchoServer) -> None:
    resp, body = request(server.port, "POST", "/form", body=b"delay=nope",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 500
    assert json.loads(body) == {"message": 'time: invalid duration "nope"'}


def test_keep_alive_two_requests_on_one_connection(server: EchoServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/first")
        resp = conn.getresponse()
        assert json.loads(resp.read())["path"] == "/first"
        assert resp.getheader("Connection") is None
        sock = conn.sock
        assert sock is not None
        conn.request("GET", "/second")
        resp = conn.getresponse()
        assert json.loads(resp.read())["path"] == "/second"
        assert conn.sock is sock
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(server: EchoServer) -> None:
    raw = exchange(server.port, b"GET /p1 HTTP/1.1\r\nHost: h\r\n\r\nGET /p2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert re.findall(rb'"path": "(/p\d)"', raw) == [b"/p1", b"/p2"]


def test_http10_closes_unless_keep_alive(server: EchoServer) -> None:
    raw = exchange(server.port, b"GET /old HTTP/1.0\r\n\r\n")  # no Host needed; server closes
    status, _, body = parse(raw)
    assert status == 200
    doc = json.loads(body)
    assert doc["proto"] == "HTTP/1.0"
    assert doc["host"] == ""


def test_head_has_length_but_no_body(server: EchoServer) -> None:
    raw = exchange(server.port, b"HEAD /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    status, headers, body = parse(raw)
    assert status == 200
    assert int(headers["Content-Length"][0]) > 0
    assert body == b""


def test_any_method(server: EchoServer) -> None:
    for method in ("DELETE", "PATCH", "OPTIONS", "PROPFIND"):
        assert echoed(server.port, "/m", method=method)["method"] == method


def test_requests_seen_and_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    # As `meshgate echo` runs it: the log line on stderr (in other programs it goes to a logger).
    with EchoServer("127.0.0.1", 0, pod=POD, namespace=NAMESPACE, log=echo.to_stderr) as server:
        for target in ("/a", "/b?x=1", "/a"):
            echoed(server.port, target)
        request(server.port, target="/health")  # a probe, not an echo
        assert server.requests_seen == ["/a", "/b?x=1", "/a"]
    err = capsys.readouterr().err
    assert re.search(r"Echoing back request made to /b\?x=1 to client \(127\.0\.0\.1:\d+\)", err)
    assert err.count("Echoing back request made to /a to client") == 2


def test_requests_seen_is_thread_safe(server: EchoServer) -> None:
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(5):
                echoed(server.port, f"/w{i}/{j}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(server.requests_seen) == sorted(f"/w{i}/{j}" for i in range(8) for j in range(5))


# -- upstream's other handlers and Go's mux ---------------------------------

def test_health(server: EchoServer) -> None:
    resp, body = request(server.port, target="/health")
    assert (resp.status, body) == (200, b"OK")


@pytest.mark.parametrize(("target", "code"), [("/status/404", 404), ("/status/503", 503),
                                              ("/status/201", 201), ("/status/42", 400),
                                              ("/status/404?x=1", 400)])
def test_status(server: EchoServer, target: str, code: int) -> None:
    resp, body = request(server.port, target=target)
    assert (resp.status, body) == (code, b"")


@pytest.mark.parametrize(("target", "location"), [("/status", "/status/"), ("/a/../b?q=1", "/b?q=1"),
                                                  ("/a/./c/", "/a/c/")])
def test_unclean_paths_redirect_like_servemux(server: EchoServer, target: str, location: str) -> None:
    resp, _ = request(server.port, target=target)
    assert resp.status == 301
    assert resp.getheader("Location") == location
    assert server.requests_seen == []


# -- the retry simulation (upstream's /retry/ handler) -------------------------

def test_retry_fails_with_the_code_until_succeed_after_then_echoes(server: EchoServer) -> None:
    target = "/retry/x?responseCode=503&succeedAfter=2&uuid=u1"
    assert [request(server.port, target=target)[0].status for _ in range(2)] == [503, 503]
    assert server.retry_attempts("u1") == 2
    assert server.requests_seen == []  # failures are not echoed
    assert echoed(server.port, target)["path"] == target
    assert echoed(server.port, target)["pod"] == POD  # and so are later requests
    assert server.retry_attempts("u1") == 2
    assert server.requests_seen == [target, target]


def test_retry_counts_each_uuid_apart(server: EchoServer) -> None:
    assert request(server.port, target="/retry/a?responseCode=500&succeedAfter=1&uuid=one")[0].status == 500
    assert request(server.port, target="/retry/a?responseCode=500&succeedAfter=1&uuid=two")[0].status == 500
    assert request(server.port, target="/retry/a?responseCode=500&succeedAfter=1&uuid=one")[0].status == 200
    assert (server.retry_attempts("one"), server.retry_attempts("two"), server.retry_attempts("three")) == (1, 1, 0)


def test_retry_without_a_code_resets_the_connection(server: EchoServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /retry/c?succeedAfter=1&uuid=rst HTTP/1.1\r\nHost: h\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(65536)
    assert server.retry_attempts("rst") == 1
    assert echoed(server.port, "/retry/c?succeedAfter=1&uuid=rst")["path"] == "/retry/c?succeedAfter=1&uuid=rst"


def test_retry_delays_only_the_failures(server: EchoServer) -> None:
    target = "/retry/d?responseCode=500&succeedAfter=1&uuid=slow&delayRetry=300ms"
    started = time.monotonic()
    assert request(server.port, target=target)[0].status == 500
    assert time.monotonic() - started >= 0.3
    assert echoed(server.port, target)["path"] == target
    resp, body = request(server.port, target="/retry/d?responseCode=500&succeedAfter=1&uuid=bad&delayRetry=x")
    assert (resp.status, json.loads(body)) == (500, {"message": 'time: invalid duration "x"'})


@pytest.mark.parametrize(("target", "body"), [("/retry/x?succeedAfter=1", b"uuid is required"),
                                              ("/retry/x?uuid=u", b"succeedAfter is required"),
                                              ("/retry/x?uuid=u&succeedAfter=two", b"succeedAfter is required")])
def test_retry_needs_uuid_and_succeed_after(server: EchoServer, target: str, body: bytes) -> None:
    resp, got = request(server.port, target=target)
    assert (resp.status, got, resp.getheader("Content-Type")) == (400, body, "text/plain; charset=utf-8")


def test_retry_root_redirects_like_servemux(server: EchoServer) -> None:
    resp, _ = request(server.port, target="/retry?uuid=u")
    assert (resp.status, resp.getheader("Location")) == (301, "/retry/?uuid=u")


def test_retry_remembers_a_bounded_number_of_uuids(server: EchoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(echo.server, "MAX_RETRY_SESSIONS", 2)  # where the server reads it
    for u in ("a", "b", "c"):
        request(server.port, target=f"/retry/x?responseCode=500&succeedAfter=5&uuid={u}")
    assert [server.retry_attempts(u) for u in ("a", "b", "c")] == [0, 1, 1]


# -- bad input ----------------------------------------------------------------

@pytest.mark.parametrize(("raw", "code"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),  # HTTP/0.9 style
    (b"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n", 400),
    (b"GET nopath HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nno-colon\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n", 417),
])
def test_bad_requests_are_rejected_and_the_server_keeps_serving(server: EchoServer, raw: bytes, code: int) -> None:
    status, headers, _ = parse(exchange(server.port, raw))  # the server closes the connection
    assert status == code
    assert headers["Connection"] == ["close"]
    assert echoed(server.port, "/still-up")["path"] == "/still-up"


def test_oversized_head_is_431(server: EchoServer) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    status, _, _ = parse(exchange(server.port, raw))
    assert status == 431


def test_client_vanishing_mid_request_does_not_hurt(server: EchoServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nshort")
    assert echoed(server.port, "/ok")["path"] == "/ok"


# -- lifecycle -------------------------------------------------------------------

def test_start_binds_a_free_port_and_stop_frees_it() -> None:
    srv = EchoServer()
    srv.start()
    port = srv.port
    assert port != 0
    assert srv.address == "127.0.0.1"
    echoed(port, "/x")
    srv.stop()
    srv.stop()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    with EchoServer(port=port) as again:
        assert again.port == port
        assert echoed(port, "/again")["path"] == "/again"


def test_stop_closes_idle_keep_alive_connections_and_pending_delays() -> None:
    srv = EchoServer()
    srv.start()
    idle = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    idle.request("GET", "/idle")
    idle.getresponse().read()
    outcome: queue.Queue[object] = queue.Queue()

    def slow() -> None:
        try:
            outcome.put(request(srv.port, target="/slow?delay=30s"))
        except Exception as exc:  # noqa: BLE001 - the expected path
            outcome.put(exc)

    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + TIMEOUT
    while "/slow?delay=30s" not in srv.requests_seen and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    srv.stop()
    assert time.monotonic() - start < TIMEOUT
    t.join(TIMEOUT)
    assert isinstance(outcome.get(timeout=TIMEOUT), Exception)  # closed, not answered after 30 s
    assert idle.sock is not None
    assert idle.sock.recv(1) == b""  # the idle connection was closed by the server
    idle.close()


def test_start_twice_is_an_error() -> None:
    with EchoServer() as srv, pytest.raises(RuntimeError):
        srv.start()


def _put_line(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Read one line of `stream` into `lines` (in a thread: readline has no timeout)."""
    lines.put(stream.readline())


def test_serve_forever_prints_and_exits_on_signal() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        code = "from meshgate.echo import serve_forever; serve_forever('127.0.0.1', 0, 'p', 'ns')"
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        try:
            lines: queue.Queue[str] = queue.Queue()
            assert proc.stdout is not None
            threading.Thread(target=_put_line, args=(proc.stdout, lines), daemon=True).start()
            line = lines.get(timeout=30)
            m = re.fullmatch(r"echo listening on http://127\.0\.0\.1:(\d+) \(pod p, namespace ns\)\n", line)
            assert m, line
            doc = echoed(int(m.group(1)), "/from-cli")
            assert (doc["pod"], doc["namespace"]) == ("p", "ns")
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            assert out == ""
            assert "Echoing back request made to /from-cli to client" in err
            assert "Traceback" not in err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


# -- Go's time.ParseDuration ----------------------------------------------------------

@pytest.mark.parametrize(("text", "nanos"), [
    ("0", 0), ("-0", 0), ("1s", 10**9), ("500ms", 5 * 10**8), ("1.5h", 5400 * 10**9),
    ("1h2m3s", 3723 * 10**9), (".5s", 5 * 10**8), ("1.s", 10**9), ("-1s", -(10**9)), ("+2ms", 2 * 10**6),
    ("100ns", 100), ("3us", 3000), ("3µs", 3000), ("3μs", 3000), ("1m0.000000001s", 60 * 10**9 + 1),
    ("9223372036854775807ns", 2**63 - 1), ("-9223372036854775808ns", -(2**63)),
])
def test_go_duration(text: str, nanos: int) -> None:
    assert _parse_go_duration(text) == nanos


@pytest.mark.parametrize(("text", "message"), [
    ("", 'time: invalid duration ""'),
    ("abc", 'time: invalid duration "abc"'),
    ("1", 'time: missing unit in duration "1"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    (".s", 'time: invalid duration ".s"'),
    ("1.2.3s", 'time: missing unit in duration "1.2.3s"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ('1"é', 'time: unknown unit "\\"\\xc3\\xa9" in duration "1\\"\\xc3\\xa9"'),
])
def test_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        _parse_go_duration(text)
    assert str(info.value) == message
