"""Providers: where resources come from (files now; the Kubernetes API later)."""
