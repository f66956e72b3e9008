"""Which GatewayClasses meshgate owns (ARCHITECTURE §2), and Gateways that name no class at all."""

from __future__ import annotations

import difflib

from ..naming import BUILTIN_CLASSES, CONTROLLER_NAME, WAYPOINT_CLASSES
from ..resources.errors import InputError
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


def unknown_class_problems(store: Store, owned: dict[str, GatewayClass | None]) -> list[InputError]:
    """A warning for each Gateway whose class is neither ours nor any GatewayClass present.

    Such a Gateway is no one's: Gateway API forbids writing status on it, so without this a
    typo (`meshgat`) gives an empty status and no proxy. A Gateway of a class that exists and
    belongs to another controller is simply not ours: no warning. `owned` is owned_classes(store).
    """
    present = {gc.meta.name for gc in store.list("GatewayClass")}
    known = set(owned) | set(WAYPOINT_CLASSES) | present
    candidates = sorted(known)
    out: list[InputError] = []
    for gw in store.list("Gateway"):
        if gw.class_name in known:
            continue
        close = difflib.get_close_matches(gw.class_name, candidates, n=1)
        if close:
            hint = f"did you mean {close[0]}?"
        else:
            hint = f"meshgate's classes are {', '.join(sorted(owned))}" if owned else "meshgate owns no class"
        out.append(InputError(
            gw.source.file, gw.class_line or gw.source.line,
            f"names GatewayClass {gw.class_name}, which is not meshgate's (controllerName {CONTROLLER_NAME}) "
            f"and does not exist; {hint}",
            "spec.gatewayClassName", gw.kind, gw.meta.namespace, gw.meta.name, severity="warning"))
    return out


def class_conditions(gc: GatewayClass, store: Store) -> list[Condition]:
    """A GatewayClass we own is accepted, unless its parametersRef is invalid."""
    problem = parameters_problem(gc.parameters_ref, store)
    return [
        Condition("Accepted", False, "InvalidParameters", problem) if problem
        else Condition("Accepted", True, "Accepted", "Handled by meshgate"),
        Condition("SupportedVersion", True, "SupportedVersion", "Gateway API v1"),
    ]
