"""What meshgate creates for a Gateway, and what it is told about it (GEP-1762, GEP-1867).

`spec.infrastructure.labels` and `.annotations` go on everything created for the Gateway. Here
that is its managed Envoy (`meshgate run`): the labels are the proxy's labels (node metadata
`meshgate.io/labels`, what DestinationRule workloadSelectors and failoverPriority read) and the
annotations its `meshgate.io/annotations`. The IR carries both (`ir.Infrastructure`), with the
`gateway.networking.k8s.io/gateway-name` and `gateway-class-name` labels GEP-1762 asks for (they
win over a Gateway label of the same key), so that a Kubernetes provisioner puts the same on
the Deployment, Pods, Service and ServiceAccount.

parametersRef (GatewayClass `spec.parametersRef`, Gateway `spec.infrastructure.parametersRef`):
meshgate reads no parameters resource yet, so every reference names an unsupported kind. As the
spec says, such a GatewayClass is not Accepted (InvalidParameters), nor is a Gateway naming one;
a Gateway of such a class is not accepted either (its class's parameters would apply to it).
"""

from __future__ import annotations

from .. import ir
from ..resources.gateway_api import Gateway, ParametersRef

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
GATEWAY_CLASS_LABEL = "gateway.networking.k8s.io/gateway-class-name"

# (group, kind) of the resources meshgate reads as parameters: none yet.
PARAMETER_KINDS: frozenset[tuple[str, str]] = frozenset()


def parameters_problem(ref: ParametersRef | None) -> str | None:
    """Why a parametersRef is invalid (the message of an InvalidParameters condition), or None."""
    if ref is None:
        return None
    if (ref.group, ref.kind) not in PARAMETER_KINDS:
        return (f"parametersRef {ref.describe()}: unsupported kind (meshgate reads no parameters resource; "
                "remove parametersRef)")
    return None


def infrastructure(gw: Gateway) -> ir.Infrastructure:
    """The labels and annotations of what is created for `gw`."""
    labels = dict(gw.infrastructure.labels)
    labels[GATEWAY_NAME_LABEL] = gw.meta.name
    labels[GATEWAY_CLASS_LABEL] = gw.class_name
    return ir.Infrastructure(tuple(sorted(labels.items())), gw.infrastructure.annotations)
