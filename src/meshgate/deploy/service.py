"""meshgate's Service: where provisioned proxies reach xDS, and where metrics are scraped."""

from __future__ import annotations

from .deployment import DEBUG_PORT_NAME, XDS_PORT_NAME
from .settings import DEBUG_PORT, NAME, SELECTOR, XDS_PORT, ManifestOptions


def service(options: ManifestOptions) -> dict:
    """A ClusterIP Service named `meshgate`: proxies dial meshgate.<namespace>.svc at the xDS port
    (runtime/in_cluster.py proxy_defaults), every ready replica behind it."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": NAME, "namespace": options.namespace, "labels": dict(options.labels)},
        "spec": {"type": "ClusterIP", "selector": dict(SELECTOR), "ports": [
            {"name": XDS_PORT_NAME, "port": XDS_PORT, "targetPort": XDS_PORT_NAME, "protocol": "TCP"},
            {"name": DEBUG_PORT_NAME, "port": DEBUG_PORT, "targetPort": DEBUG_PORT_NAME, "protocol": "TCP"},
        ]},
    }
