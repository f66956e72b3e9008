"""meshgate: an xDS control plane for Envoy, in Python."""

__version__ = "0.1.0"
