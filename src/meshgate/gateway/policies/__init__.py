"""Policies attached to Gateways, listeners, routes and rules (Envoy Gateway's policy kinds):
which policy applies where (attachment.py: targets, precedence, conflicts), what it does to a
gateway's routes and clusters (one module per kind, registered in kinds.py) and the status
written on it (status.py)."""
