"""The Checks a test body makes over what is not HTTP/1.1: WebSocket, gRPC, TCP, UDP, DNS (mixed into
checks.Checks). Each retries until the answer has been right `timing.consecutive` times in a row
(upstream's AwaitConvergence), or records a failure when `timing.consistency` runs out."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dnslib import DNSError

from .expect import Key
from .grpc_client import GrpcExpect, grpc_problem, send_rpc
from .stream_clients import dns_query, tcp_echo, tcp_problem, udp_echo, websocket_echo

if TYPE_CHECKING:
    from .runner import Suite

# What a failed attempt may raise: the next attempt may do better (the Gateway not ready yet).
_RETRYABLE = (OSError, ValueError, DNSError)


class StreamChecks:
    """WebSocket, gRPC, TCP, UDP and DNS expectations (Checks provides suite, failures, _cert)."""

    suite: Suite
    failures: list[str]

    def _cert(self, tls_cert: Key | None) -> str | None:
        raise NotImplementedError  # Checks'

    def expect_consistently(self, what: str, attempt: Callable[[], str | None]) -> bool:
        """Run `attempt` (None = right, else the problem) until it is right `timing.consecutive` times
        in a row; on timeout record "what: problem" and return False (a soft failure, as `expect`)."""
        timing = self.suite.timing
        deadline = time.monotonic() + timing.consistency
        streak = 0
        while streak < timing.consecutive:
            try:
                problem = attempt()
            except _RETRYABLE as exc:
                problem = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # noqa: BLE001 - e.g. aiohttp's errors: the attempt failed, not the harness
                problem = f"{type(exc).__name__}: {exc}"
            streak = 0 if problem else streak + 1
            if problem:
                if time.monotonic() > deadline:
                    self.failures.append(f"{what}: {problem}")
                    return False
                time.sleep(timing.step)
        return True

    def expect_websocket(self, address: str, messages: Sequence[str | bytes], name: str, path: str = "/ws",
                         origin: str = "ws://gateway/") -> None:
        """Dial ws://address/path, send `messages` one by one; each must come back unchanged."""
        def attempt() -> str | None:
            replies = websocket_echo(address, list(messages), path, origin)
            for sent, got in zip(messages, replies, strict=True):
                if sent != got:
                    return f"unexpected reply - want: {sent!r} got: {got!r}"
            return None
        self.expect_consistently(name, attempt)

    def expect_grpc(self, address: str, expected: GrpcExpect, index: int = 0, tls_cert: Key | None = None,
                    server_name: str = "") -> None:
        """grpc.MakeRequestAndExpectEventuallyConsistentResponse (TLS trusting `tls_cert` when given)."""
        cert = self._cert(tls_cert)
        self.expect_consistently(expected.title(index), lambda: grpc_problem(expected, send_rpc(
            address, expected.method, expected.authority, expected.metadata, cert_pem=cert, server_name=server_name)))

    def expect_tcp(self, address: str, backend: str, namespace: str, tls_cert: Key | None = None,
                   server_name: str = "", backend_is_tls: bool = False) -> None:
        """tcp.MakeTCPRequestAndExpectEventuallyValidResponse: welcome, PING, IS_TLS, TEST from a Pod of
        `backend` (over TLS trusting `tls_cert`, SNI `server_name`, for TLSRoute passthrough)."""
        cert = self._cert(tls_cert)
        self.expect_consistently(f"TCP to {address} should reach {backend}", lambda: tcp_problem(
            tcp_echo(address, cert, server_name), backend, namespace, backend_is_tls, server_name))

    def expect_udp(self, address: str, service: str = "", namespace: str = "") -> None:
        """udp.ExpectEchoResponseFromBackend: an answer, from `service` in `namespace` when given."""
        def attempt() -> str | None:
            doc = udp_echo(address)
            if service and doc.get("service") != service:
                return f"service {doc.get('service')!r}, expected {service!r} (pod {doc.get('pod')!r})"
            if namespace and doc.get("namespace") != namespace:
                return f"namespace {doc.get('namespace')!r}, expected {namespace!r}"
            return None
        self.expect_consistently(f"UDP echo probe on {address}", attempt)

    def expect_dns(self, address: str, name: str = "foo.bar.com.") -> None:
        """The UDPRoute test's DNS query: any answer counts."""
        self.expect_consistently(f"DNS query {name} on {address}", lambda: None if dns_query(address, name) else "none")
