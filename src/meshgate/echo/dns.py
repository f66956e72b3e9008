"""A stand-in for the conformance manifests' ``coredns`` Deployment (the UDPRoute tests' backend).

Its Corefile serves ``foo.bar.com`` with the ``whoami`` plugin and forwards everything else to
public resolvers. Here ``foo.bar.com`` and names under it are answered as whoami answers (no answer
records; in the additional section an A or AAAA record with the client's address and an SRV
record ``_udp.<name>`` with its port), and every other name gets SERVFAIL (no forwarding: the
tests run offline). The UDPRoute test only needs an answer to its A query for ``foo.bar.com.``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from dnslib import AAAA, QTYPE, RCODE, RR, SRV, A, DNSError, DNSLabel, DNSRecord

from .udp import DatagramServer

ZONE = DNSLabel("foo.bar.com.")
_BUFFER = 4096


def answer(query: bytes, client: tuple) -> bytes | None:
    """The reply to one DNS query from `client` (address, port); None when it does not parse."""
    try:
        request = DNSRecord.parse(query)
    except (DNSError, ValueError, IndexError):
        return None
    reply = request.reply()
    name = request.q.qname
    if not name.matchSuffix(ZONE):
        reply.header.rcode = RCODE.SERVFAIL
        return reply.pack()
    host, port = client[0], client[1]
    if ipaddress.ip_address(host).version == 6:
        reply.add_ar(RR(name, QTYPE.AAAA, ttl=0, rdata=AAAA(host)))
    else:
        reply.add_ar(RR(name, QTYPE.A, ttl=0, rdata=A(host)))
    reply.add_ar(RR(DNSLabel([b"_udp", *name.label]), QTYPE.SRV, ttl=0, rdata=SRV(0, 0, port, name)))
    return reply.pack()


def dns_server(address: str, port: int, log: Callable[[str], None] | None = None) -> DatagramServer:
    """The coredns stand-in on `address`:`port` (UDP)."""
    def reply(data: bytes, client: tuple) -> bytes | None:
        out = answer(data, client)
        if log is not None and out is not None:
            log(f"[INFO] {client[0]}:{client[1]} - {DNSRecord.parse(data).q.qname}")
        return out
    return DatagramServer(address, port, reply, buffer=_BUFFER)
