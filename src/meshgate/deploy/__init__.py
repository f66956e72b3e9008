"""Running meshgate in a cluster: the Kubernetes manifests `meshgate manifests` renders, as pure
functions returning the objects (settings, RBAC, Deployment, Service, GatewayClasses, render)."""
