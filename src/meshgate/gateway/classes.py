"""Which GatewayClasses meshgate owns (ARCHITECTURE §2)."""

from __future__ import annotations

from ..naming import BUILTIN_CLASSES, CONTROLLER_NAME
from ..resources.gateway_api import GatewayClass
from ..store import Store
from .conditions import Condition
from .infrastructure import parameters_problem


def owned_classes(store: Store) -> dict[str, GatewayClass | None]:
    """Class name → its object (None for a built-in class with no object) for classes we own."""
    owned: dict[str, GatewayClass | None] = {}
    for name in BUILTIN_CLASSES:
        owned[name] = None
    for gc in store.list("GatewayClass"):
        if gc.controller_name == CONTROLLER_NAME:
            owned[gc.meta.name] = gc
        else:
            owned.pop(gc.meta.name, None)  # an object for a built-in name, given to someone else
    return owned


def class_conditions(gc: GatewayClass) -> list[Condition]:
    """A GatewayClass we own is accepted, unless its parametersRef is invalid."""
    problem = parameters_problem(gc.parameters_ref)
    return [
        Condition("Accepted", False, "InvalidParameters", problem) if problem
        else Condition("Accepted", True, "Accepted", "Handled by meshgate"),
        Condition("SupportedVersion", True, "SupportedVersion", "Gateway API v1"),
    ]
