"""Resources: reading Kubernetes-shaped YAML/JSON into typed, validated objects."""
