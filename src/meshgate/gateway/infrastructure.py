"""What meshgate creates for a Gateway, and what it is told about it (GEP-1762, GEP-1867).

`spec.infrastructure.labels` and `.annotations` go on everything created for the Gateway. Here
that is its managed Envoy (`meshgate run`): the labels are the proxy's labels (node metadata
`meshgate.io/labels`, what DestinationRule workloadSelectors and failoverPriority read) and the
annotations its `meshgate.io/annotations`. The IR carries both (`ir.Infrastructure`), with the
`gateway.networking.k8s.io/gateway-name` and `gateway-class-name` labels GEP-1762 asks for (they
win over a Gateway label of the same key), so that a Kubernetes provisioner puts the same on
the Deployment, Pods, Service and ServiceAccount.

parametersRef (GatewayClass `spec.parametersRef`, Gateway `spec.infrastructure.parametersRef`):
meshgate reads GatewayParameters (gateway.meshgate.io, resources/meshgate_kinds.py), which shape
the provisioned proxy (replicas, image, resources, Service, autoscaling, disruption budget). A
Gateway's own parameters override its class's field by field. A reference to another kind, or to
a GatewayParameters that does not exist or is invalid, makes the referrer not Accepted
(InvalidParameters), as the spec says; a Gateway of such a class is not accepted either.
"""

from __future__ import annotations

import dataclasses

from .. import ir
from ..resources import meshgate_kinds
from ..resources.gateway_api import Gateway, GatewayClass, ParametersRef
from ..resources.meshgate_kinds import GatewayParameters
from ..store import Store

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
GATEWAY_CLASS_LABEL = "gateway.networking.k8s.io/gateway-class-name"

# (group, kind) of the resources meshgate reads as parameters.
PARAMETER_KINDS: frozenset[tuple[str, str]] = frozenset({(meshgate_kinds.GROUP, meshgate_kinds.KIND)})


def _referent(store: Store, ref: ParametersRef, namespace: str) -> GatewayParameters | None:
    found = store.get(meshgate_kinds.KIND, ref.namespace or namespace, ref.name)
    return found if isinstance(found, GatewayParameters) else None


def parameters_problem(ref: ParametersRef | None, store: Store, namespace: str = "") -> str | None:
    """Why a parametersRef is invalid (the message of an InvalidParameters condition), or None.
    `namespace`: the referrer's (a Gateway's); a GatewayClass's reference names its own."""
    if ref is None:
        return None
    if (ref.group, ref.kind) not in PARAMETER_KINDS:
        return (f"parametersRef {ref.describe()}: unsupported kind (meshgate reads "
                f"{meshgate_kinds.GROUP}/{meshgate_kinds.KIND})")
    if not (ref.namespace or namespace):
        return f"parametersRef {ref.describe()}: {meshgate_kinds.KIND} is namespaced: give its namespace"
    if _referent(store, ref, namespace) is None:
        return f"parametersRef {ref.describe()}: not found (or invalid: see its input errors)"
    return None


def _merged(*layers: GatewayParameters | None) -> ir.ProxyParameters:
    out = ir.ProxyParameters()
    for p in layers:
        if p is None:
            continue
        fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(ir.ProxyParameters)
                  if f.name != "autoscaling" and getattr(p, f.name) is not None}
        if p.autoscaling is not None:
            a = p.autoscaling
            fields["autoscaling"] = (a.min_replicas, a.max_replicas, a.cpu_percent)
        out = dataclasses.replace(out, **fields)
    return out


def infrastructure(gw: Gateway, store: Store, gc: GatewayClass | None = None) -> ir.Infrastructure:
    """The labels, annotations and proxy parameters of what is created for `gw` (of class `gc`)."""
    labels = dict(gw.infrastructure.labels)
    labels[GATEWAY_NAME_LABEL] = gw.meta.name
    labels[GATEWAY_CLASS_LABEL] = gw.class_name
    class_ref = gc.parameters_ref if gc is not None else None
    own_ref = gw.infrastructure.parameters_ref
    params = _merged(_referent(store, class_ref, "") if class_ref is not None else None,
                     _referent(store, own_ref, gw.meta.namespace) if own_ref is not None else None)
    return ir.Infrastructure(tuple(sorted(labels.items())), gw.infrastructure.annotations, params)


def parameters_layers(gw: Gateway, store: Store, gc: GatewayClass | None) -> list[GatewayParameters]:
    """The Gateway's own parameters, then its class's (those that exist)."""
    layers = [_referent(store, gw.infrastructure.parameters_ref, gw.meta.namespace)
              if gw.infrastructure.parameters_ref is not None else None,
              _referent(store, gc.parameters_ref, "") if gc is not None and gc.parameters_ref is not None else None]
    return [p for p in layers if p is not None]
