"""Gateways that share one host's ports (`meshgate run`: every managed Envoy runs on this machine).

In a cluster each Gateway gets its own proxies and addresses, so two Gateways never compete for
a socket. On one host they do: two Envoys binding the same address and port would both start
(or, with SO_REUSEPORT, split the traffic between them). So when Gateways share a host, each
address:port belongs to the oldest Gateway that asks for it (creationTimestamp, then
namespace/name: the same order Gateway API uses for route conflicts); a younger Gateway's
listeners on it are not served and say why. A wildcard address (0.0.0.0, ::) overlaps every
address of its family on the same port, as the kernel's bind does.
"""

from __future__ import annotations

import ipaddress

from .attachment import GatewayState
from .conditions import Condition

_WILDCARDS = {"0.0.0.0": 4, "::": 6}


def _family(address: str) -> int:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return 4


def overlaps(a: tuple[str, int], b: tuple[str, int]) -> bool:
    """Whether two (address, port) binds collide on one host."""
    (addr_a, port_a), (addr_b, port_b) = a, b
    if port_a != port_b or _family(addr_a) != _family(addr_b):
        return False
    return addr_a == addr_b or addr_a in _WILDCARDS or addr_b in _WILDCARDS


def _key(state: GatewayState) -> tuple[str, str, str]:
    meta = state.gateway.meta
    return (meta.creation_timestamp, meta.namespace, meta.name)


def _name(state: GatewayState) -> str:
    meta = state.gateway.meta
    return f"{meta.namespace}/{meta.name}"


def resolve_host_ports(states: list[GatewayState]) -> None:
    """Give each contested address:port to the oldest Gateway; mark the others' listeners on it
    as not programmed (they are then left out of the Envoy config) with the reason."""
    taken: list[tuple[tuple[str, int], GatewayState]] = []
    for state in sorted(states, key=_key):
        mine: list[tuple[str, int]] = []
        for ls in state.listeners:
            if not ls.programmed:
                continue
            bind = (state.address, ls.listener.port)
            holder = next((owner for b, owner in taken if overlaps(b, bind)), None)
            if holder is None:
                mine.append(bind)
                continue
            ls.programmed = False
            state.ports_taken = True
            message = (f"{state.address}:{ls.listener.port} is already used by Gateway {_name(holder)} "
                       "(older) on this host; this listener is not served")
            ls.conditions = [c for c in ls.conditions if c.type != "Programmed"]
            ls.conditions.append(Condition("Programmed", False, "Invalid", message))
        taken.extend((b, state) for b in mine)
