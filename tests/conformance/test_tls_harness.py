"""The harness's TLS parts, without Envoy: the suite's CA and what it signs, trusting a certificate
as Go's RootCAs does, and what counts as a rejected TLS connection (utils/tls).

The TLSRoute tests pass only if these accept what upstream accepts and refuse what it refuses.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .ca_certificates import CA_CONFIG_MAPS, CA_SIGNED, authority, ca_signed
from .cluster import MANIFESTS, TLS_SECRETS, Certificate, documents, manifest_text
from .stream_clients import tls_handshake, tls_rejection_problem

HOST = "abc.example.com"


@contextmanager
def serving(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback server handing each accepted connection to `handle` (then closing it); its address."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    handle(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def tls_server(cert: Certificate, tmp_path: Path) -> Callable[[socket.socket], None]:
    """A handler completing a TLS handshake with `cert`."""
    (tmp_path / "c.pem").write_text(cert.cert_pem)
    (tmp_path / "k.pem").write_text(cert.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)  # until the client goes
    return handle


def test_a_ca_signed_certificate_is_trusted_through_its_ca_or_itself(tmp_path: Path) -> None:
    """The TLSRoute tests trust the CA of a ConfigMap, TLSRouteHostnameIntersection the served leaf
    itself (Go treats every certificate in RootCAs as an anchor); another CA is refused."""
    ca = authority()
    leaf = ca_signed(ca, (HOST, "spiffe://abc.example.com/test-identity"))
    with serving(tls_server(leaf, tmp_path)) as address:
        assert tls_handshake(address, HOST, ca.cert_pem).version.startswith("TLS")
        assert tls_handshake(address, HOST, leaf.cert_pem).version.startswith("TLS")
        with pytest.raises(ssl.SSLCertVerificationError):
            tls_handshake(address, HOST, authority().cert_pem)
        with pytest.raises(ssl.SSLCertVerificationError):
            tls_handshake(address, "other.example.com", ca.cert_pem)


def test_closing_or_resetting_during_the_handshake_is_a_rejection(tmp_path: Path) -> None:
    def close(conn: socket.socket) -> None:
        conn.recv(1024)  # the ClientHello, then EOF

    def reset(conn: socket.socket) -> None:
        conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close

    with serving(close) as address:
        assert tls_rejection_problem(address, HOST) is None
    with serving(reset) as address:
        assert tls_rejection_problem(address, HOST) is None


def test_a_handshake_that_gets_further_or_no_connection_is_no_rejection(tmp_path: Path) -> None:
    """A certificate the client does not trust (the Gateway answered), and a refused connection
    (nothing listening), are what upstream's isConnectionRejected does not count."""
    with serving(tls_server(ca_signed(authority(), (HOST,)), tmp_path)) as address:
        problem = tls_rejection_problem(address, HOST)
        assert problem is not None and "CERTIFICATE_VERIFY_FAILED" in problem
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: refused
        problem = tls_rejection_problem(closed, HOST)
    assert problem is not None and "ConnectionRefused" in problem


def test_every_certificate_the_tlsroute_manifests_name_is_made() -> None:
    """The Secrets the TLSRoute tests' listeners and the base Pods use exist, each signed by a CA
    the suite publishes when upstream signs it with one."""
    made = set(TLS_SECRETS) | set(CA_SIGNED)
    for path in sorted(MANIFESTS.glob("tlsroute-*.yaml")):
        for obj in documents(manifest_text(path.name)):
            for listener in obj.get("spec", {}).get("listeners", []) if obj.get("kind") == "Gateway" else []:
                for ref in (listener.get("tls") or {}).get("certificateRefs", []):
                    key = (ref.get("namespace") or obj["metadata"]["namespace"], ref["name"])
                    assert key in made, key
    for key, (ca, _) in CA_SIGNED.items():
        assert ca in CA_CONFIG_MAPS
        assert key not in TLS_SECRETS  # one certificate per Secret
