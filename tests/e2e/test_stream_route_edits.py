"""TCPRoute, TLSRoute and UDPRoute edits under steady traffic, through `meshgate run` and a real
Envoy: no connection fails, and no datagram goes unanswered after one retransmission, while
routes move between backends and TLSRoutes come and go.

Edits alternate between moving the TCPRoute and the UDPRoute to the other of two backends (for
TCP a listener update, with a cluster added and one removed; for UDP an update of the route's
cluster alone, which the test checks: the UDP listener is never replaced) and adding or removing a second TLSRoute
on the terminating listener (a filter chain added or removed). Meanwhile a client makes one new
connection after another to the TCP and TLS listeners and sends datagrams from fresh sockets to
the UDP one; every answer must come from a backend the route may use at that moment.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import Counter
from pathlib import Path

import pytest

from meshgate.runtime.run import Runner, RunOptions
from meshgate.xds.resources import LISTENER

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

TCP_PORT, TERMINATE_PORT, UDP_PORT = 9330, 9331, 9332
EDITS = 8
INTERVAL = 0.6  # seconds between edits
MAX_REQUESTS = 5000  # the client's bound, far above what EDITS × INTERVAL allows


def gateway(base: str, cert: bytes, key: bytes) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: e2e}}
spec:
  gatewayClassName: meshgate
  addresses: [{{type: IPAddress, value: "{base}.1"}}]
  listeners:
  - {{name: tcp, port: {TCP_PORT}, protocol: TCP}}
  - name: terminate
    port: {TERMINATE_PORT}
    protocol: TLS
    hostname: "*.example.com"
    tls: {{mode: Terminate, certificateRefs: [{{name: front}}]}}
  - {{name: udp, port: {UDP_PORT}, protocol: UDP}}
---
{tls_secret_yaml("front", cert, key)}---
{service_yaml("tcp-a", base + ".11")}---
{service_yaml("tcp-b", base + ".12")}---
{service_yaml("udp-a", base + ".13", "UDP")}---
{service_yaml("udp-b", base + ".14", "UDP")}"""


def routes(suffix: str, second: bool) -> str:
    """The TCPRoute and UDPRoute to backends tcp-`suffix` and udp-`suffix`, the TLSRoute `front`,
    and the TLSRoute `second` when `second`."""
    text = f"""apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {{name: tcp, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: tcp}}]
  rules: [{{backendRefs: [{{name: tcp-{suffix}, port: {BACKEND_PORT}}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {{name: udp, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: udp}}]
  rules: [{{backendRefs: [{{name: udp-{suffix}, port: {BACKEND_PORT}}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: front, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: terminate}}]
  hostnames: [front.example.com]
  rules: [{{backendRefs: [{{name: tcp-a, port: {BACKEND_PORT}}}]}}]
"""
    if second:
        text += f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: second, namespace: e2e}}
spec:
  parentRefs: [{{name: gw, sectionName: terminate}}]
  hostnames: [second.example.com]
  rules: [{{backendRefs: [{{name: tcp-b, port: {BACKEND_PORT}}}]}}]
"""
    return text


class Load:
    """One new TCP connection, TLS connection and UDP socket after another, on a thread, until
    stopped (or MAX_REQUESTS); each answer must name a backend its route may use."""

    def __init__(self, gw: str, trust: ssl.SSLContext) -> None:
        self.gw, self.trust = gw, trust
        self.answers: Counter[str] = Counter()
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, what: str, call, allowed: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        try:
            answer = call().decode(errors="replace")
        except OSError as e:
            answer = repr(e)
        backend = answer.split(":", 1)[0]
        if backend in allowed and answer.endswith(":" + what):
            self.answers[f"{what} {backend}"] += 1
        else:
            self.failed.append(f"{what}: {answer!r}")

    def _run(self) -> None:
        for _ in range(MAX_REQUESTS):
            if self._stop.is_set():
                return
            self._one("tcp", lambda: tcp_exchange(self.gw, TCP_PORT, b"tcp"), ("tcp-a", "tcp-b"))
            self._one("tls", lambda: tcp_exchange(self.gw, TERMINATE_PORT, b"tls", (self.trust, "front.example.com")),
                      ("tcp-a",))
            # UDP promises no delivery: a datagram in flight when its endpoint leaves the cluster
            # (Envoy ends that session) is lost, and a client sends again, as DNS clients do. A
            # failure is a datagram that got no answer twice (a replaced listener loses more).
            self._one("udp", lambda: udp_exchange(self.gw, UDP_PORT, b"udp", attempts=2), ("udp-a", "udp-b"))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    @property
    def requests(self) -> int:
        return sum(self.answers.values()) + len(self.failed)


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_stream_route_edits_under_traffic_lose_nothing(tmp_path: Path, delta: bool) -> None:
    base = free_subnet()
    cert, key = certificate("*.example.com")
    backends = Backends()
    for name, octet in (("tcp-a", 11), ("tcp-b", 12)):
        backends.tcp(name, f"{base}.{octet}")
    for name, octet in (("udp-a", 13), ("udp-b", 14)):
        backends.udp(name, f"{base}.{octet}")
    cfg = tmp_path / "config"
    cfg.mkdir()

    def write(name: str, text: str) -> None:
        tmp = cfg / f".{name}.tmp"
        tmp.write_text(text)
        tmp.replace(cfg / name)  # atomic, as editors save

    write("gateway.yaml", gateway(base, cert, key))
    write("routes.yaml", routes("a", False))
    trust = ssl.create_default_context(cadata=cert.decode())
    gw = f"{base}.1"

    async def body() -> Load:
        runner = Runner(RunOptions([str(cfg)], xds_port=0, debug_port=0, delta=delta, workdir=tmp_path / "work"),
                        say=lambda _: None)
        await runner.start()
        loop = asyncio.get_running_loop()
        try:
            for call, expected in ((lambda: tcp_exchange(gw, TCP_PORT, b"tcp"), b"tcp-a:tcp"),
                                   (lambda: udp_exchange(gw, UDP_PORT, b"udp"), b"udp-a:udp")):
                assert await loop.run_in_executor(None, eventually, call, expected) == expected
            udp_listener = runner.control.cache.entry("e2e/gw").resources[LISTENER][f"{gw}_{UDP_PORT}_udp"]
            load = Load(gw, trust)
            load.start()
            suffix, second = "a", False
            for n in range(EDITS):
                await asyncio.sleep(INTERVAL)
                if n % 2 == 0:
                    suffix = "b" if suffix == "a" else "a"
                else:
                    second = not second
                write("routes.yaml", routes(suffix, second))
            await asyncio.sleep(INTERVAL)
            load.stop()
            # Moving the UDPRoute updated its cluster, never the UDP listener: a replaced UDP
            # listener drops the datagrams that reach it meanwhile (retransmission would hide it).
            assert runner.control.cache.entry("e2e/gw").resources[LISTENER][f"{gw}_{UDP_PORT}_udp"] is udp_listener
            # The last edit took: the routes' backend is tcp-a/udp-a again, `second` is gone.
            assert (suffix, second) == ("a", False)
            got = await loop.run_in_executor(None, eventually, lambda: tcp_exchange(gw, TCP_PORT, b"tcp"),
                                             b"tcp-a:tcp")
            assert got == b"tcp-a:tcp"
            return load
        finally:
            await runner.stop()
            backends.stop()

    load = asyncio.run(asyncio.wait_for(body(), 120))
    assert load.failed == [], f"{len(load.failed)} of {load.requests} failed: {load.failed[:10]}"
    # The edits moved traffic: both backends of each moved route answered.
    assert {"tcp tcp-a", "tcp tcp-b", "udp udp-a", "udp udp-b", "tls tcp-a"} <= set(load.answers), load.answers
