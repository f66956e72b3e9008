"""meshgate's own CustomResourceDefinition: GatewayParameters, its schema the one meshgate
validates input with (resources/meshgate_kinds.py SCHEMA). The Gateway API's and Istio's CRDs are
theirs to install (`kubectl apply` of the Gateway API's standard-install.yaml)."""

from __future__ import annotations

from ..resources import meshgate_kinds as mk
from .settings import ManifestOptions


def gateway_parameters_crd(options: ManifestOptions) -> dict:
    """The GatewayParameters CRD (namespaced, one version, served and stored)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{mk.PLURAL}.{mk.GROUP}", "labels": dict(options.labels)},
        "spec": {
            "group": mk.GROUP, "scope": "Namespaced",
            "names": {"kind": mk.KIND, "listKind": f"{mk.KIND}List", "plural": mk.PLURAL,
                      "singular": mk.KIND.lower()},
            "versions": [{"name": mk.VERSION, "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": mk.SCHEMA}}],
        },
    }
