"""`meshgate echo` beyond HTTP/1.1: h2c, TLS, WebSocket, gRPC, TCP, UDP and the DNS stand-in, each
over real sockets on 127.0.0.1 and checked with the conformance harness's own clients."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from dnslib import QTYPE, RCODE

from meshgate.echo import EchoServer
from meshgate.echo.answer import PodContext
from meshgate.echo.grpc_echo import GrpcEchoServer
from meshgate.echo.modes import EchoOptions, start_backends
from meshgate.echo.tcp import TcpEchoServer
from meshgate.echo.tls import server_context
from meshgate.echo.udp import udp_echo as udp_server
from tests.conformance.cluster import Certificate, self_signed
from tests.conformance.expect import Request
from tests.conformance.grpc_client import GrpcExpect, grpc_problem, send_rpc
from tests.conformance.stream_clients import (
    dns_query,
    h2c_round_trip,
    tcp_echo,
    tcp_problem,
    tls_handshake,
    udp_echo,
    websocket_echo,
)

POD = "infra-backend-v1-7d9c6b5f4-ax0q"
NS = "gateway-conformance-infra"
HOST = "abc.example.com"
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Certificate, Path, Path]:
    c = self_signed((HOST,))
    d = tmp_path_factory.mktemp("tls")
    (d / "crt").write_text(c.cert_pem)
    (d / "key").write_text(c.key_pem)
    return c, d / "crt", d / "key"


@pytest.fixture
def http_server(cert: tuple[Certificate, Path, Path]) -> Iterator[EchoServer]:
    _, crt, key = cert
    with EchoServer("127.0.0.1", 0, POD, NS, h2c_port=0, tls_port=0, tls_context=server_context(str(crt), str(key)),
                    service="infra-backend-v1") as srv:
        yield srv


def https_get(port: int, cert_pem: str, path: str = "/", alpn: tuple[str, ...] = ("http/1.1",),
              client: tuple[str, str] | None = None) -> tuple[int, dict]:
    ctx = ssl.create_default_context(cadata=cert_pem)
    ctx.set_alpn_protocols(list(alpn))
    if client:
        ctx.load_cert_chain(*client)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT), server_hostname=HOST)
    try:
        conn.request("GET", path, headers={"Host": HOST})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if resp.status == 200 else {}
    finally:
        conn.close()


# -- h2c ----------------------------------------------------------------------------------------

def test_h2c_prior_knowledge_echoes_with_http2_proto(http_server: EchoServer) -> None:
    assert http_server.h2c_port is not None
    reply = h2c_round_trip(f"127.0.0.1:{http_server.h2c_port}", Request(path="/h2?x=1", headers={"x-a": "b"}),
                           host="example.com:3001", echo_set_headers={"X-Back": "yes"})
    assert reply.status == 200
    assert reply.echo is not None
    assert reply.echo["proto"] == "HTTP/2.0"
    assert reply.echo["path"] == "/h2?x=1"
    assert reply.echo["host"] == "example.com:3001"
    assert reply.echo["headers"]["X-A"] == ["b"]
    assert reply.echo["pod"] == POD and reply.echo["namespace"] == NS and reply.echo["service"] == "infra-backend-v1"
    assert reply.header("x-back") == "yes"
    assert http_server.requests_seen == ["/h2?x=1"]


def test_h2c_port_refuses_http1_as_upstream(http_server: EchoServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", http_server.h2c_port, timeout=TIMEOUT)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (400, b"Expected h2c request")
    conn.close()


def test_http_port_stays_http1_only_and_no_h2c_port_by_default() -> None:
    with EchoServer("127.0.0.1", 0) as srv:
        assert srv.h2c_port is None and srv.tls_port is None
        with pytest.raises(ConnectionError):
            h2c_round_trip(f"127.0.0.1:{srv.port}", Request(), host="x")


# -- TLS ----------------------------------------------------------------------------------------

def test_tls_port_reports_sni_version_alpn_and_cipher(http_server: EchoServer,
                                                       cert: tuple[Certificate, Path, Path]) -> None:
    assert http_server.tls_port is not None
    status, doc = https_get(http_server.tls_port, cert[0].cert_pem, "/tls")
    assert status == 200
    tls = doc["tls"]
    assert tls["serverName"] == HOST and doc["sni"] == HOST
    assert tls["version"] == "TLSv1.3"
    assert tls["negotiatedProtocol"] == "http/1.1"
    assert tls["cipherSuite"].startswith("TLS_")
    assert "peerCertificates" not in tls  # no client certificate sent
    assert doc["proto"] == "HTTP/1.1" and doc["pod"] == POD


def test_tls_port_serves_http2_when_negotiated(http_server: EchoServer, cert: tuple[Certificate, Path, Path]) -> None:
    info = tls_handshake(f"127.0.0.1:{http_server.tls_port}", HOST, cert[0].cert_pem, alpn=("h2", "http/1.1"))
    assert info.alpn == "h2"
    assert info.peer_cert_pem.strip() == cert[0].cert_pem.strip()
    reply = h2c_round_trip(f"127.0.0.1:{http_server.tls_port}", Request(path="/over-h2"), host=HOST,
                           cert_pem=cert[0].cert_pem, server_name=HOST)
    assert reply.echo is not None
    assert reply.echo["proto"] == "HTTP/2.0" and reply.echo["tls"]["negotiatedProtocol"] == "h2"
    assert reply.echo["sni"] == HOST
    health = h2c_round_trip(f"127.0.0.1:{http_server.tls_port}", Request(path="/health"), host=HOST,
                            cert_pem=cert[0].cert_pem, server_name=HOST)
    assert (health.status, health.body) == (200, b"OK")  # the TLS port routes as the HTTP port does


def test_tls_client_certificate_is_reported(tmp_path: Path, cert: tuple[Certificate, Path, Path]) -> None:
    client = self_signed(("client.example.com",))
    (tmp_path / "c.crt").write_text(client.cert_pem)
    (tmp_path / "c.key").write_text(client.key_pem)
    ctx = server_context(str(cert[1]), str(cert[2]), client_ca=str(tmp_path / "c.crt"))
    with EchoServer("127.0.0.1", 0, tls_port=0, tls_context=ctx) as srv:
        assert srv.tls_port is not None
        status, doc = https_get(srv.tls_port, cert[0].cert_pem,
                                client=(str(tmp_path / "c.crt"), str(tmp_path / "c.key")))
    assert status == 200
    assert [p.strip() for p in doc["tls"]["peerCertificates"]] == [client.cert_pem.strip()]


# -- WebSocket ----------------------------------------------------------------------------------

def test_websocket_echoes_text_and_binary(http_server: EchoServer) -> None:
    replies = websocket_echo(f"127.0.0.1:{http_server.port}", ["Websocket Support!", bytes([1, 2, 3, 4, 5, 6, 7])])
    assert replies == ["Websocket Support!", bytes([1, 2, 3, 4, 5, 6, 7])]


def test_websocket_large_message_and_refusals(http_server: EchoServer) -> None:
    big = "x" * 70_000  # a 64-bit length frame
    assert websocket_echo(f"127.0.0.1:{http_server.port}", [big]) == [big]
    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=TIMEOUT)
    conn.request("GET", "/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    assert conn.getresponse().status == 403  # x/net/websocket's Handler wants an Origin
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=TIMEOUT)
    conn.request("GET", "/ws")
    assert conn.getresponse().status == 400
    conn.close()


# -- gRPC ---------------------------------------------------------------------------------------

@pytest.fixture
def grpc_server(cert: tuple[Certificate, Path, Path]) -> Iterator[GrpcEchoServer]:
    srv = GrpcEchoServer("127.0.0.1", 0, PodContext(NS, "", "grpc-infra-backend-v1", "grpc-infra-backend-v1-abc-x"),
                         tls_port=0, tls=(cert[1].read_bytes(), cert[2].read_bytes()))
    srv.start()
    yield srv
    srv.stop()


def test_grpc_echo_and_echo_two_answer_assertions(grpc_server: GrpcEchoServer) -> None:
    for method in ("Echo", "EchoTwo"):
        reply = send_rpc(f"127.0.0.1:{grpc_server.port}", method, authority="grpc.example.com",
                         metadata={"x-jitter": "7"})
        assert grpc_problem(GrpcExpect(method=method, backend="grpc-infra-backend-v1", namespace=NS), reply) is None
        a = reply.assertions
        assert a.fully_qualified_method == f"/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/{method}"
        assert a.authority == "grpc.example.com"
        headers = {(h.key, h.value) for h in a.headers}
        assert ("x-jitter", "7") in headers and (":authority", "grpc.example.com") in headers
        assert a.context.service_name == "grpc-infra-backend-v1"
        assert not a.HasField("tls_assertions")


def test_grpc_echo_three_is_unimplemented(grpc_server: GrpcEchoServer) -> None:
    reply = send_rpc(f"127.0.0.1:{grpc_server.port}", "EchoThree")
    assert reply.code == grpc.StatusCode.UNIMPLEMENTED
    assert grpc_problem(GrpcExpect(method="EchoThree", code=grpc.StatusCode.UNIMPLEMENTED), reply) is None
    assert grpc_problem(GrpcExpect(method="EchoThree"), reply) is not None


def test_grpc_tls_port(grpc_server: GrpcEchoServer, cert: tuple[Certificate, Path, Path]) -> None:
    reply = send_rpc(f"127.0.0.1:{grpc_server.tls_port}", "Echo", cert_pem=cert[0].cert_pem, server_name=HOST)
    assert reply.code == grpc.StatusCode.OK
    assert reply.assertions.tls_assertions.negotiated_protocol == "h2"


# -- TCP, UDP, DNS ------------------------------------------------------------------------------

def test_tcp_echo_plain_and_tls(cert: tuple[Certificate, Path, Path]) -> None:
    ctx = server_context(str(cert[1]), str(cert[2]), alpn=())
    srv = TcpEchoServer("127.0.0.1", 0, PodContext(NS, "", "tcp-backend", "tcp-backend-abc-x"), tls_port=0, tls=ctx)
    srv.start()
    try:
        plain = tcp_echo(f"127.0.0.1:{srv.port}")
        assert tcp_problem(plain, "tcp-backend", NS) is None
        assert plain.test["isTLS"] is False and "tls" not in plain.test
        assert list(plain.test) == ["namespace", "ingress", "service", "pod", "tcpport", "tlsport", "isTLS"]
        secure = tcp_echo(f"127.0.0.1:{srv.tls_port}", cert[0].cert_pem, HOST)
        assert tcp_problem(secure, "tcp-backend", NS, backend_is_tls=True, server_name=HOST) is None
        assert secure.test["tls"]["version"] in ("TLS 1.3", "TLS 1.2")
        assert tcp_problem(plain, "other-backend", NS) is not None
    finally:
        srv.stop()


def test_udp_echo_reports_request_and_context() -> None:
    srv = udp_server("127.0.0.1", 0, PodContext(NS, "", "udp-backend", "udp-backend-abc-x"))
    srv.start()
    try:
        doc = udp_echo(f"127.0.0.1:{srv.port}")
    finally:
        srv.stop()
    assert doc == {"request": "gateway-api-conformance-udp-echo", "namespace": NS, "ingress": "",
                   "service": "udp-backend", "pod": "udp-backend-abc-x"}


def test_dns_stand_in_answers_whoami_for_its_zone_only() -> None:
    servers, urls = start_backends("127.0.0.1", 0, PodContext(), EchoOptions(mode="dns"))
    try:
        address = urls[0].removeprefix("dns://")
        reply = dns_query(address, "foo.bar.com.")
        other = dns_query(address, "example.org.")
    finally:
        for s in servers:
            s.stop()
    assert reply.header.rcode == RCODE.NOERROR
    assert (QTYPE[reply.ar[0].rtype], str(reply.ar[0].rdata)) == ("A", "127.0.0.1")
    assert other.header.rcode == RCODE.SERVFAIL


def test_http_mode_with_a_grpc_port_serves_both_as_one_pod() -> None:
    """echo-advanced's --grpc: the HTTP echo and the GrpcEcho service side by side, same Pod context."""
    context = PodContext("gateway-conformance-mesh", "", "", "echo-v1-abc-x")
    servers, urls = start_backends("127.0.0.1", 0, context, EchoOptions(grpc_port=0))
    try:
        assert [u.split(":", 1)[0] for u in urls] == ["http", "grpc"]
        reply = send_rpc(urls[1].removeprefix("grpc://"), metadata={"x-a": "b"})
        http_port = int(urls[0].rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=TIMEOUT)
        conn.request("GET", "/")
        doc = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        for s in servers:
            s.stop()
    assert grpc_problem(GrpcExpect(backend="echo-v1", namespace="gateway-conformance-mesh"), reply) is None
    assert ("x-a", "b") in [(h.key, h.value) for h in reply.assertions.headers]
    assert doc["pod"] == "echo-v1-abc-x"
    assert EchoOptions(mode="tcp", grpc_port=7070).problem() == \
        "--grpc-port is for mode http (mode grpc serves gRPC on --port)"


def test_cli_modes_print_where_they_listen(cert: tuple[Certificate, Path, Path]) -> None:
    exe = str(Path(sys.executable).parent / "meshgate")
    bad = subprocess.run([exe, "echo", "--port", "0", "--mode", "udp", "--h2c-port", "0"], capture_output=True,
                         text=True, timeout=30, check=False)
    assert bad.returncode == 2 and "--h2c-port is for mode http" in bad.stderr
    proc = subprocess.Popen([exe, "echo", "--port", "0", "--mode", "tcp", "--tls-port", "0", "--tls-cert",
                             str(cert[1]), "--tls-key", str(cert[2]), "--pod", "tcp-backend-a-b"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert lines[0].startswith("echo listening on tcp://127.0.0.1:")
        assert lines[1].startswith("echo listening on tls://127.0.0.1:")
        address = lines[0].split("tcp://", 1)[1].split(" ", 1)[0]
        assert tcp_problem(tcp_echo(address), "tcp-backend", "") is None
    finally:
        proc.terminate()
        proc.wait(15)


def test_a_failed_handshake_does_not_hurt_the_tls_port(http_server: EchoServer,
                                                       cert: tuple[Certificate, Path, Path]) -> None:
    with socket.create_connection(("127.0.0.1", http_server.tls_port), timeout=TIMEOUT) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            assert plain.recv(100) == b""
        except ConnectionResetError:
            pass  # refused either way: what matters is the next client
    assert https_get(http_server.tls_port, cert[0].cert_pem)[0] == 200
