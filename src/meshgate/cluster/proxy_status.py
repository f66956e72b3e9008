"""What the provisioned proxies add to a Gateway's status: its addresses come from its proxy's
Service (the load balancer's, else the cluster IPs) when the Gateway asks for none of its own,
and it is Programmed only once its Deployment has an available replica (Envoy Gateway's
NoResources reason meanwhile)."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProxyState:
    """A provisioned proxy as the API server last showed it."""

    available: int  # the Deployment's available replicas
    addresses: tuple[str, ...]  # the Service's load balancer IPs or hostnames, else its cluster IPs


def observed_state(deployment: dict | None, service: dict | None) -> ProxyState:
    """A proxy's state from its Deployment and Service (either may not exist yet)."""
    available = int(((deployment or {}).get("status") or {}).get("availableReplicas") or 0)
    addresses: list[str] = []
    if service is not None:
        for ingress in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            value = ingress.get("ip") or ingress.get("hostname")
            if value:
                addresses.append(value)
        if not addresses:
            spec = service.get("spec") or {}
            addresses = [ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None"]
    return ProxyState(available, tuple(addresses))


def _address(value: str) -> dict:
    try:
        ipaddress.ip_address(value)
        return {"type": "IPAddress", "value": value}
    except ValueError:
        return {"type": "Hostname", "value": value}


def with_proxy_states(status: list[dict], states: Mapping[str, ProxyState], now: str) -> list[dict]:
    """`status` with each provisioned Gateway's addresses and Programmed condition as its proxy
    makes them ("ns/name" → state); other objects as they are (changed ones are copies)."""
    if not states:
        return status
    out = []
    for obj in status:
        md = obj.get("metadata", {})
        state = states.get(f"{md.get('namespace', '')}/{md.get('name', '')}") if obj.get("kind") == "Gateway" else None
        if state is None:
            out.append(obj)
            continue
        obj = copy.deepcopy(obj)
        st = obj.setdefault("status", {})
        if not st.get("addresses") and state.addresses:
            st["addresses"] = [_address(a) for a in state.addresses]
        if state.available == 0:
            for c in st.get("conditions") or []:
                if c.get("type") == "Programmed" and c.get("status") == "True":
                    c.update(status="False", reason="NoResources", message="Deployment replicas unavailable",
                             lastTransitionTime=now)
        out.append(obj)
    return out
