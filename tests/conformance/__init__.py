"""Gateway API conformance, run through real Envoy without Kubernetes (see README.md here)."""
