"""TCPRoute, TLSRoute and UDPRoute through a real Envoy under `meshgate run`.

Backends are small echo servers on loopback addresses that answer with their own name: a TCP
echo, a TLS server (for passthrough: the client's TLS session ends there, with its
certificate), and a UDP echo. The Gateway has a TCP listener, a TLS passthrough and a TLS
terminate listener, and a UDP listener; each route's answer must come from its backend.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from meshgate.runtime.run import Runner, RunOptions

from .harness import free_subnet
from .stream_backends import (
    BACKEND_PORT,
    Backends,
    certificate,
    eventually,
    service_yaml,
    tcp_exchange,
    tls_secret_yaml,
    udp_exchange,
)

pytestmark = pytest.mark.envoy

TCP_PORT, TLS_PORT, TERMINATE_PORT, UDP_PORT = 9310, 9443, 9444, 9353


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
{tls_secret_yaml("front", cert, key)}---
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
{service_yaml("tcp-backend", base + ".11")}---
{service_yaml("tls-backend", base + ".12")}---
{service_yaml("udp-backend", base + ".13", "UDP")}"""


def test_tcp_tls_and_udp_routes_reach_their_backends(tmp_path: Path) -> None:
    base = free_subnet()
    backend_cert, backend_key = certificate("abc.example.com")
    front_cert, front_key = certificate("front.example.com")
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
            got = await loop.run_in_executor(None, eventually, lambda: tcp_exchange(gw, TCP_PORT, b"hello"),
                                             b"tcp-backend:hello")
            assert got == b"tcp-backend:hello"
            # Passthrough: the TLS session is the backend's (only its certificate is trusted here).
            trust_backend = ssl.create_default_context(cadata=backend_cert.decode())
            got = await loop.run_in_executor(
                None, eventually, lambda: tcp_exchange(gw, TLS_PORT, b"secret", (trust_backend, "abc.example.com")),
                b"tls-backend:secret")
            assert got == b"tls-backend:secret"
            # An SNI no TLSRoute claims: the connection is closed, nothing forwarded.
            with pytest.raises((ssl.SSLError, OSError)):
                await loop.run_in_executor(None, tcp_exchange, gw, TLS_PORT, b"x", (trust_backend, "other.example.com"))
            # Terminate: the Gateway's certificate, then plaintext to the TCP backend.
            trust_front = ssl.create_default_context(cadata=front_cert.decode())
            got = await loop.run_in_executor(
                None, eventually, lambda: tcp_exchange(gw, TERMINATE_PORT, b"clear", (trust_front, "front.example.com")),
                b"tcp-backend:clear")
            assert got == b"tcp-backend:clear"
            got = await loop.run_in_executor(None, eventually, lambda: udp_exchange(gw, UDP_PORT, b"ping"),
                                             b"udp-backend:ping")
            assert got == b"udp-backend:ping"
        finally:
            await runner.stop()
            backends.stop()

    asyncio.run(asyncio.wait_for(body(), 120))
