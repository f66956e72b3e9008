"""Envoy Gateway's policy kinds (gateway.envoyproxy.io/v1alpha1), read so that a user moving from
Envoy Gateway keeps the policies they wrote: BackendTrafficPolicy (backend_traffic_policy.py),
ClientTrafficPolicy (client_traffic_policy.py), SecurityPolicy (security_policy.py).
How they attach and which wins is the translation's business (gateway/policies/)."""

from __future__ import annotations

GROUP = "gateway.envoyproxy.io"
VERSION = "v1alpha1"
# The kinds whose status meshgate writes (policy ancestors).
POLICY_KINDS = ("BackendTrafficPolicy", "ClientTrafficPolicy", "SecurityPolicy")
