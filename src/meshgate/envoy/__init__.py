"""Envoy process side: bootstraps and (later) managed Envoy processes."""
