"""The GatewayClasses meshgate controls out of the box (naming.py BUILTIN_CLASSES), as objects:
meshgate treats them as present even without one, but an object lets `kubectl get gatewayclass`
list them and the leader write their Accepted condition."""

from __future__ import annotations

from ..naming import BUILTIN_CLASSES, CONTROLLER_NAME, WAYPOINT_CLASSES
from ..resources import gateway_api
from .settings import ManifestOptions


def _description(name: str) -> str:
    # At most 64 characters: the GatewayClass CRD's maxLength for spec.description.
    if name in WAYPOINT_CLASSES:
        return "meshgate waypoints: an Envoy per waypoint, configured over xDS"
    return "meshgate: an Envoy per Gateway, configured over xDS"


def gateway_classes(options: ManifestOptions) -> list[dict]:
    """One GatewayClass per built-in class name, with meshgate's controllerName."""
    return [{"apiVersion": f"{gateway_api.GROUP}/v1", "kind": "GatewayClass",
             "metadata": {"name": name, "labels": dict(options.labels)},
             "spec": {"controllerName": CONTROLLER_NAME, "description": _description(name)}}
            for name in BUILTIN_CLASSES]
