"""The Kubernetes provider: objects from the API server (list, then watch), status written back."""
