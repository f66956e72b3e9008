"""Addresses for Gateways that ask for none, from a pool (what a LoadBalancer IPAM does in a cluster).

`meshgate run --address-pool 127.0.80.0/24` gives every such Gateway its own loopback address,
so several Gateways can keep the same listener ports (80, 443) side by side. An address stays
with its Gateway for as long as the Gateway exists; a vanished Gateway's address is reused last.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


class AddressPool:
    """Sticky assignment of a network's host addresses to Gateway keys ("ns/name")."""

    def __init__(self, network: str) -> None:
        try:
            net = ipaddress.ip_network(network, strict=True)
        except ValueError as exc:
            raise ValueError(f"address pool {network!r}: {exc}") from None
        hosts = list(net.hosts()) if net.num_addresses > 2 else list(net)
        self.network = net
        self._free = [str(h) for h in hosts]
        self._taken: dict[str, str] = {}

    def assign(self, gateways: Iterable[str]) -> dict[str, str]:
        """The address of each of `gateways`; those no longer listed give theirs back.

        When the pool runs dry the rest get none (and listen on every address, as without a pool).
        """
        wanted = set(gateways)
        for key in [k for k in self._taken if k not in wanted]:
            self._free.append(self._taken.pop(key))  # reused last: a restarted Gateway keeps no stale listener
        for key in sorted(wanted - self._taken.keys()):
            if not self._free:
                break
            self._taken[key] = self._free.pop(0)
        return dict(self._taken)
