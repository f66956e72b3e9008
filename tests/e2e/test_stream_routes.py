"""TCPRoute, TLSRoute and UDPRoute through a real Envoy under `meshgate run`.

Backends are small echo servers on loopback addresses that answer with their own name: a TCP
echo, a TLS server (for passthrough: the client's TLS session ends there, with its
certificate), and a UDP echo. The Gateway has a TCP listener, a TLS passthrough and a TLS
terminate listener, and a UDP listener; each route's answer must come from its backend.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meshgate.runtime.run import Runner, RunOptions

from .harness import free_subnet

pytestmark = pytest.mark.envoy

TCP_PORT, TLS_PORT, TERMINATE_PORT, UDP_PORT = 9310, 9443, 9444, 9353
BACKEND_PORT = 3000


def _certificate(host: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class Backends:
    """TCP, TLS and UDP servers answering `<name>:<what they got>`, each on its own thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def tcp(self, name: str, address: str, tls: ssl.SSLContext | None = None) -> None:
        srv = socket.create_server((address, BACKEND_PORT))
        srv.settimeout(0.2)
        self._sockets.append(srv)

        def serve() -> None:
            while not self._stop.is_set():
                try:
                    conn, _ = srv.accept()
                except OSError:
                    continue
                with conn:
                    conn.settimeout(5)
                    try:
                        stream = tls.wrap_socket(conn, server_side=True) if tls else conn
                        data = stream.recv(1024)
                        stream.sendall(f"{name}:".encode() + data)
                    except OSError:
                        pass
        self._start(serve)

    def udp(self, name: str, address: str) -> None:
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind((address, BACKEND_PORT))
        srv.settimeout(0.2)
        self._sockets.append(srv)

        def serve() -> None:
            while not self._stop.is_set():
                try:
                    data, peer = srv.recvfrom(1024)
                except OSError:
                    continue
                srv.sendto(f"{name}:".encode() + data, peer)
        self._start(serve)

    def _start(self, target) -> None:  # type: ignore[no-untyped-def]
        t = threading.Thread(target=target, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)
        for s in self._sockets:
            s.close()


def _service(name: str, address: str, protocol: str = "TCP") -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: e2e}}
spec:
  ports: [{{name: p, port: {BACKEND_PORT}, targetPort: {BACKEND_PORT}, protocol: {protocol}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: {name}-1, namespace: e2e, labels: {{kubernetes.io/service-name: {name}}}}}
addressType: IPv4
ports: [{{name: p, port: {BACKEND_PORT}, protocol: {protocol}}}]
endpoints: [{{addresses: ["{address}"]}}]
"""


def config(base: str, cert: bytes, key: bytes) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: e2e}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: tcp, port: {TCP_PORT}, protocol: TCP}}
  - {{name: passthrough, port: {TLS_PORT}, protocol: TLS, tls: {{mode: Passthrough}}}}
  - name: terminate
    port: {TERMINATE_PORT}
    protocol: TLS
    tls: {{mode: Terminate, certificateRefs: [{{name: front}}]}}
  - {{name: udp, port: {UDP_PORT}, protocol: UDP}}
---
apiVersion: v1
kind: Secret
metadata: {{name: front, namespace: e2e}}
type: kubernetes.io/tls
data: {{tls.crt: {base64.b64encode(cert).decode()}, tls.key: {base64.b64encode(key).decode()}}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {{name: tcp, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: tcp}}]
  rules: [{{backendRefs: [{{name: tcp-backend, port: {BACKEND_PORT}}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: abc, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: passthrough}}]
  hostnames: [abc.example.com]
  rules: [{{backendRefs: [{{name: tls-backend, port: {BACKEND_PORT}}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: plain, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: terminate}}]
  hostnames: [front.example.com]
  rules: [{{backendRefs: [{{name: tcp-backend, port: {BACKEND_PORT}}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {{name: udp, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: udp}}]
  rules: [{{backendRefs: [{{name: udp-backend, port: {BACKEND_PORT}}}]}}]
---
{_service("tcp-backend", base + ".11")}---
{_service("tls-backend", base + ".12")}---
{_service("udp-backend", base + ".13", "UDP")}"""


def _tcp(address: str, port: int, payload: bytes, tls: tuple[ssl.SSLContext, str] | None = None) -> bytes:
    with socket.create_connection((address, port), timeout=3) as s:
        stream = tls[0].wrap_socket(s, server_hostname=tls[1]) if tls else s
        stream.sendall(payload)
        return stream.recv(1024)


def _udp(address: str, port: int, payload: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        s.sendto(payload, (address, port))
        return s.recv(1024)


def _eventually(call, expected: bytes, timeout: float = 20.0) -> bytes:  # type: ignore[no-untyped-def]
    """The answer of `call` once it is `expected` (Envoy takes its config a moment after start)."""
    deadline = time.monotonic() + timeout
    answer = b""
    while time.monotonic() < deadline:
        try:
            answer = call()
        except OSError as e:
            answer = repr(e).encode()
        if answer == expected:
            return answer
        time.sleep(0.1)
    return answer


def test_tcp_tls_and_udp_routes_reach_their_backends(tmp_path: Path) -> None:
    base = free_subnet()
    backend_cert, backend_key = _certificate("abc.example.com")
    front_cert, front_key = _certificate("front.example.com")
    (tmp_path / "b.crt").write_bytes(backend_cert)
    (tmp_path / "b.key").write_bytes(backend_key)
    backend_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    backend_tls.load_cert_chain(tmp_path / "b.crt", tmp_path / "b.key")
    backends = Backends()
    backends.tcp("tcp-backend", f"{base}.11")
    backends.tcp("tls-backend", f"{base}.12", backend_tls)
    backends.udp("udp-backend", f"{base}.13")
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "all.yaml").write_text(config(base, front_cert, front_key))

    async def body() -> None:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, workdir=tmp_path / "work"), say=lambda _: None)
        await runner.start()
        loop = asyncio.get_running_loop()
        try:
            gw = f"{base}.1"
            got = await loop.run_in_executor(None, _eventually, lambda: _tcp(gw, TCP_PORT, b"hello"),
                                             b"tcp-backend:hello")
            assert got == b"tcp-backend:hello"
            # Passthrough: the TLS session is the backend's (only its certificate is trusted here).
            trust_backend = ssl.create_default_context(cadata=backend_cert.decode())
            got = await loop.run_in_executor(
                None, _eventually, lambda: _tcp(gw, TLS_PORT, b"secret", (trust_backend, "abc.example.com")),
                b"tls-backend:secret")
            assert got == b"tls-backend:secret"
            # An SNI no TLSRoute claims: the connection is closed, nothing forwarded.
            with pytest.raises((ssl.SSLError, OSError)):
                await loop.run_in_executor(None, _tcp, gw, TLS_PORT, b"x", (trust_backend, "other.example.com"))
            # Terminate: the Gateway's certificate, then plaintext to the TCP backend.
            trust_front = ssl.create_default_context(cadata=front_cert.decode())
            got = await loop.run_in_executor(
                None, _eventually, lambda: _tcp(gw, TERMINATE_PORT, b"clear", (trust_front, "front.example.com")),
                b"tcp-backend:clear")
            assert got == b"tcp-backend:clear"
            got = await loop.run_in_executor(None, _eventually, lambda: _udp(gw, UDP_PORT, b"ping"),
                                             b"udp-backend:ping")
            assert got == b"udp-backend:ping"
        finally:
            await runner.stop()
            backends.stop()

    asyncio.run(asyncio.wait_for(body(), 120))
