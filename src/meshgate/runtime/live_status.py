"""Status as the proxies see it: a Gateway is Programmed only if its Envoys accepted the config.

Translation decides what a Gateway should serve; whether it does is the proxies' answer. A NACK
(a listener Envoy could not bind, a route it refused) turns the Gateway's Programmed condition
False with Envoy's own error, and, for listeners, the Programmed condition of each Gateway
listener whose port the rejected Envoy listener serves. The overlay is computed when status is
read, from the streams' last answers, so it clears as soon as a proxy ACKs again or goes away.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..xds.resources import LISTENER, SHORT_NAMES
from ..xds.streams import StreamState

if TYPE_CHECKING:
    from .controller import ControlPlane

_BIND = re.compile(r"cannot bind|address already in use", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One proxy's last answer for one xDS type was a NACK."""

    gateway: str  # "namespace/name"
    node: str
    type_url: str
    message: str


def rejections(streams: Iterable[StreamState]) -> list[Rejection]:
    """The NACKs standing on connected streams (cleared on a stream by its next ACK)."""
    return [Rejection(st.gateway, st.node_id, t, ts.nack)
            for st in streams if st.gateway for t, ts in sorted(st.types.items()) if ts.nack]


def _set(conditions: list[dict], type_: str, reason: str, message: str, now: str) -> None:
    for c in conditions:
        if c["type"] == type_:
            if c["status"] != "False":
                c["lastTransitionTime"] = now
            c.update(status="False", reason=reason, message=message)
            return


def with_proxy_answers(status: list[dict], standing: list[Rejection],
                       listener_ports: Mapping[str, Mapping[str, int]],
                       envoy_listeners: Mapping[str, Mapping[str, int]], now: str) -> list[dict]:
    """`status` with Programmed turned False where a proxy rejected its Gateway's config.

    `listener_ports`: gateway → Gateway listener name → port; `envoy_listeners`: gateway →
    Envoy listener name → port (what a NACK's message names). Objects not concerned are
    returned as they are (the others are copies: `status` is not modified).
    """
    by_gateway: dict[str, list[Rejection]] = {}
    for r in standing:
        by_gateway.setdefault(r.gateway, []).append(r)
    if not by_gateway:
        return status
    out = []
    for obj in status:
        key = f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
        found = by_gateway.get(key) if obj["kind"] == "Gateway" else None
        if not found:
            out.append(obj)
            continue
        obj = copy.deepcopy(obj)
        first = found[0]
        summary = f"proxy {first.node} rejected {SHORT_NAMES.get(first.type_url, first.type_url)}: {first.message}"
        if len(found) > 1:
            summary += f" (and {len(found) - 1} more rejection(s))"
        reason = "AddressNotUsable" if any(_BIND.search(r.message) for r in found) else "Invalid"
        _set(obj["status"].get("conditions", []), "Programmed", reason, summary, now)
        ports = {port for r in found if r.type_url == LISTENER
                 for name, port in envoy_listeners.get(key, {}).items() if name in r.message}
        messages = {port: next(r.message for r in found if r.type_url == LISTENER
                               and any(n in r.message for n, p in envoy_listeners.get(key, {}).items() if p == port))
                    for port in ports}
        for ls in obj["status"].get("listeners", []):
            port = listener_ports.get(key, {}).get(ls["name"])
            if port in messages:
                _set(ls.get("conditions", []), "Programmed", "Invalid",
                     f"Envoy rejected the listener on port {port}: {messages[port]}", now)
        out.append(obj)
    return out


def as_dicts(standing: Iterable[Rejection]) -> list[dict]:
    """Rejections as other replicas read them (cluster/proxy_answers.py)."""
    return [{"gateway": r.gateway, "node": r.node, "type_url": r.type_url, "message": r.message} for r in standing]


def from_dicts(answers: Iterable[dict]) -> list[Rejection]:
    """Rejections published by other replicas (entries that are not one are skipped)."""
    out = []
    for a in answers:
        fields = [a.get(k) for k in ("gateway", "node", "type_url", "message")]
        gateway, node, type_url, message = fields
        if isinstance(gateway, str) and isinstance(node, str) and isinstance(type_url, str) \
                and isinstance(message, str):
            out.append(Rejection(gateway, node, type_url, message))
    return out


def live_status(control: ControlPlane, streams: Iterable[StreamState], others: Iterable[Rejection] = ()) -> list[dict]:
    """The control plane's status with its connected proxies' rejections applied (and `others`:
    those of proxies connected to other replicas)."""
    ports = {f"{g.meta.namespace}/{g.meta.name}": {ls.name: ls.port for ls in g.listeners}
             for g in control.store.list("Gateway")}
    envoy = {c.key: {lst.name: lst.port for lst in c.listeners} for c in control.configs}
    return with_proxy_answers(control.status, rejections(streams) + list(others), ports, envoy, control.clock())
