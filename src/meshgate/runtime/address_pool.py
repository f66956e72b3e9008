"""Addresses for Gateways that ask for none, from a pool (what a LoadBalancer IPAM does in a cluster).

`meshgate run --address-pool 127.0.80.0/24` gives every such Gateway its own loopback address,
so several Gateways can keep the same listener ports (80, 443) side by side. An address stays
with its Gateway for as long as the Gateway exists; a vanished Gateway's address is reused last,
after every never-used one. Addresses are drawn lazily, so a huge (IPv6) pool costs nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator


def _bindable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether this host has `ip` (a socket can bind it; port 0, closed at once, nothing sent)."""
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((str(ip), 0))
    except OSError:
        return False
    return True


class AddressPool:
    """Sticky assignment of a network's host addresses to Gateway keys ("ns/name")."""

    def __init__(self, network: str) -> None:
        try:
            net = ipaddress.ip_network(network, strict=True)
        except ValueError as exc:
            raise ValueError(f"address pool {network!r}: {exc}") from None
        self.network = net
        self._fresh: Iterator = iter(net.hosts())
        self._freed: list[str] = []
        self._taken: dict[str, str] = {}

    def usable(self, address: str) -> bool:
        """Whether a Gateway can have the `address` it asks for in spec.addresses: one of the
        pool's (as a LoadBalancer IPAM hands out), or one of this host's own (its proxies run
        here: they can bind it). Anything else no one here can give it (GatewayStaticAddresses'
        unusable address: Programmed=False/AddressNotUsable)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return ip in self.network or _bindable(ip)

    def _next(self, reserved: set[str]) -> str | None:
        for address in self._fresh:
            if str(address) not in reserved:
                return str(address)
        for i, address in enumerate(self._freed):
            if address not in reserved:
                return self._freed.pop(i)
        return None

    def assign(self, gateways: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
        """The address of each of `gateways`; those no longer listed give theirs back.

        `reserved` addresses (other Gateways' own `spec.addresses`) are never handed out; a
        Gateway holding one gives it up. When the pool runs dry the rest get none (and listen on
        every address, as without a pool).
        """
        wanted, taken_elsewhere = set(gateways), set(reserved)
        for key in [k for k, a in self._taken.items() if k not in wanted or a in taken_elsewhere]:
            address = self._taken.pop(key)
            if address not in taken_elsewhere:
                self._freed.append(address)
        for key in sorted(wanted - self._taken.keys()):
            fresh = self._next(taken_elsewhere)
            if fresh is None:
                break
            self._taken[key] = fresh
        return dict(self._taken)
