"""echo-basic's UDP mode (UDP_ECHO_SERVER): every datagram is answered with
``{"request": <what was received>, "namespace", "ingress", "service", "pod"}`` (compact JSON),
what the UDPRoute tests' echo probe checks (service and namespace of the replica answering)."""

from __future__ import annotations

import json
import select
import socket
import threading
from collections.abc import Callable

from .answer import PodContext
from .go import _logger, _text

_BUFFER = 1024  # upstream reads into 1024 bytes: a longer datagram is cut there


class DatagramServer:
    """A UDP socket answered from one daemon thread; `reply` turns (datagram, client) into the
    answer, None for none."""

    def __init__(self, address: str, port: int, reply: Callable[[bytes, tuple], bytes | None],
                 buffer: int = _BUFFER) -> None:
        self._address = address
        self.port = port
        self._reply = reply
        self._buffer = buffer
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Bind and serve."""
        family = socket.AF_INET6 if ":" in self._address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((self._address, self.port))
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"echo-udp-{self.port}")
        self._thread.start()

    def _loop(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stopping.is_set():
            ready, _, _ = select.select([sock], [], [], 0.1)
            if not ready:
                continue
            try:
                data, client = sock.recvfrom(self._buffer)
            except OSError:
                continue
            try:
                answer = self._reply(data, client)
            except Exception:  # noqa: BLE001 - one bad datagram must not end the server
                _logger.exception("echo: no answer to a datagram from %s", client)
                continue
            if answer is not None:
                try:
                    sock.sendto(answer, client)
                except OSError:
                    pass

    def stop(self) -> None:
        """Stop the thread (bounded) and close the socket."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()
        self._sock = self._thread = None


def udp_echo(address: str, port: int, context: PodContext,
             log: Callable[[str], None] | None = None) -> DatagramServer:
    """echo-basic's UDP echo on `address`:`port`."""
    def reply(data: bytes, client: tuple) -> bytes:
        if log is not None:
            log(f"Received UDP {_text(data)} from {client[0]}:{client[1]}")
        doc = {"request": _text(data), "namespace": context.namespace, "ingress": context.ingress,
               "service": context.service, "pod": context.pod}
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return DatagramServer(address, port, reply)
