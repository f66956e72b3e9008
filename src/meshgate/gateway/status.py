"""Kubernetes-shaped status objects for GatewayClasses, Gateways and routes.

Every condition is stamped with the translation's time; the control plane then keeps the time of
each condition whose status did not change (status_times).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..naming import CONTROLLER_NAME
from ..resources.meta import Meta
from .conditions import Condition
from .listeners import ListenerState

API_VERSION = "gateway.networking.k8s.io/v1"


def _conditions(conds: Iterable[Condition], generation: int, now: str) -> list[dict]:
    return [c.to_dict(generation, now) for c in conds]


def _metadata(meta: Meta) -> dict:
    md = {"name": meta.name}
    if meta.namespace:
        md["namespace"] = meta.namespace
    return md


def gateway_class_status(meta: Meta, conds: list[Condition], now: str) -> dict:
    """GatewayClass status."""
    return {"apiVersion": API_VERSION, "kind": "GatewayClass", "metadata": _metadata(meta),
            "status": {"conditions": _conditions(conds, meta.generation, now)}}


def _listeners(listeners: list[ListenerState], generation: int, now: str) -> list[dict]:
    return [
        {
            "name": ls.name,
            "supportedKinds": [{"group": k.group, "kind": k.kind} for k in ls.supported_kinds],
            "attachedRoutes": ls.attached_routes,
            "conditions": _conditions(ls.conditions, generation, now),
        }
        for ls in listeners
    ]


def gateway_status(meta: Meta, conds: list[Condition], listeners: list[ListenerState],
                   addresses: list[dict], now: str, attached_listener_sets: int | None = None) -> dict:
    """Gateway status with per-listener conditions, supported kinds and attached route counts
    (and the number of ListenerSets attached, when the Gateway allows them)."""
    status: dict = {}
    if addresses:
        status["addresses"] = addresses
    status["conditions"] = _conditions(conds, meta.generation, now)
    status["listeners"] = _listeners(listeners, meta.generation, now)
    if attached_listener_sets is not None:
        status["attachedListenerSets"] = attached_listener_sets
    return {"apiVersion": API_VERSION, "kind": "Gateway", "metadata": _metadata(meta), "status": status}


def listener_set_status(meta: Meta, conds: list[Condition], listeners: list[ListenerState], now: str) -> dict:
    """ListenerSet status: its conditions and each of its listeners', as a Gateway's."""
    status = {"conditions": _conditions(conds, meta.generation, now),
              "listeners": _listeners(listeners, meta.generation, now)}
    return {"apiVersion": API_VERSION, "kind": "ListenerSet", "metadata": _metadata(meta), "status": status}


def route_status(kind: str, meta: Meta, parents: list[tuple[dict, list[Condition]]], now: str) -> dict:
    """A route's status (HTTPRoute, GRPCRoute, ...): one entry per parentRef we are responsible for."""
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": _metadata(meta),
        "status": {
            "parents": [
                {"parentRef": ref, "controllerName": CONTROLLER_NAME,
                 "conditions": _conditions(conds, meta.generation, now)}
                for ref, conds in parents
            ]
        },
    }
