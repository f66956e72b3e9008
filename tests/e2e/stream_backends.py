"""Stream backends and clients for the TCPRoute, TLSRoute and UDPRoute end-to-end tests: small
TCP, TLS and UDP servers on loopback addresses answering `<name>:<what they got>`, a
self-signed certificate for a host, a Service with its EndpointSlice, and one-shot clients."""

from __future__ import annotations

import base64
import datetime
import socket
import ssl
import threading
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BACKEND_PORT = 3000


def certificate(host: str) -> tuple[bytes, bytes]:
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


def service_yaml(name: str, address: str, protocol: str = "TCP") -> str:
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


def tcp_exchange(address: str, port: int, payload: bytes, tls: tuple[ssl.SSLContext, str] | None = None) -> bytes:
    with socket.create_connection((address, port), timeout=3) as s:
        stream = tls[0].wrap_socket(s, server_hostname=tls[1]) if tls else s
        stream.sendall(payload)
        return stream.recv(1024)


def udp_exchange(address: str, port: int, payload: bytes, attempts: int = 1) -> bytes:
    """Send `payload` from a new socket and return the answer; with `attempts` > 1, send it again
    (from the same socket) when no answer comes within a second, as a DNS client does."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for attempt in range(attempts):
            s.sendto(payload, (address, port))
            try:
                return s.recv(1024)
            except TimeoutError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


def eventually(call: Callable[[], bytes], expected: bytes, timeout: float = 20.0) -> bytes:
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


def tls_secret_yaml(name: str, cert: bytes, key: bytes) -> str:
    """A kubernetes.io/tls Secret `name` in e2e holding `cert` and `key`."""
    return f"""apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: e2e}}
type: kubernetes.io/tls
data: {{tls.crt: {base64.b64encode(cert).decode()}, tls.key: {base64.b64encode(key).decode()}}}
"""
