"""Names of what is created for a Gateway: `<gateway>-<class>` (Istio's convention, so that a
Gateway and a Service of the same name do not collide), shortened with a hash past 63 characters."""

from __future__ import annotations

import hashlib

MAX_NAME = 63  # a DNS-1123 label: Service names must be one


def proxy_name(gateway: str, class_name: str) -> str:
    """The name of the Deployment, Service, ServiceAccount and ConfigMap of a Gateway's proxy."""
    name = f"{gateway}-{class_name}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9].rstrip('-.')}-{digest}"
