"""A provisioned proxy's readiness endpoint: a static listener on the Pod's addresses that serves
only GET /ready, proxied to the admin interface (what Envoy Gateway does; envoy/admin_paths.py).
The kubelet's readiness probe reads it: a Pod is ready once its Envoy is LIVE, and the Gateway
Programmed once a replica is."""

from __future__ import annotations

from envoy.config.bootstrap.v3 import bootstrap_pb2

from ..envoy.admin_paths import expose_admin_path

READINESS_PORT = 19003  # beside Envoy's usual admin port; not one a Gateway listener is likely to take
READINESS_PATH = "/ready"
READINESS_LISTENER = "meshgate-readiness"


def add_readiness(boot: bootstrap_pb2.Bootstrap, port: int = READINESS_PORT) -> None:
    """Add the readiness listener (0.0.0.0:`port`, GET /ready only)."""
    expose_admin_path(boot, READINESS_LISTENER, port, READINESS_PATH)
