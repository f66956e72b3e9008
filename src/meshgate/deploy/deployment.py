"""meshgate's Deployment and its PodDisruptionBudget.

Every replica serves xDS (versions are content hashes, so replicas agree) and campaigns for the
Lease; the leader also writes status and provisions. Hence two replicas by default, spread across
nodes, and a budget that keeps one serving through voluntary disruptions (node drains).
"""

from __future__ import annotations

from .settings import DEBUG_PORT, NAME, REDIS_URL_ENV, REDIS_URL_SECRET_KEY, SELECTOR, XDS_PORT, ManifestOptions

UID = 65532  # the Dockerfile's non-root user (numeric, so that runAsNonRoot can be checked)
XDS_PORT_NAME = "grpc-xds"
DEBUG_PORT_NAME = "http-metrics"


def serve_args() -> list[str]:
    """`meshgate serve` in a cluster (the image's entrypoint is `meshgate`).

    xDS and the debug port listen on the Pod's addresses: proxies dial the Service, and the kubelet
    probes and Prometheus scrapes reach the Pod's IP (both stay loopback unless asked, as here).
    xDS is mutual TLS with the cluster's CA (runtime/cluster_pki.py), on by default in a cluster.
    """
    return ["serve", "--kubernetes",
            "--xds", f"0.0.0.0:{XDS_PORT}",
            "--debug-address", "0.0.0.0", "--debug-port", str(DEBUG_PORT),
            "--log-format", "json"]


def _env(options: ManifestOptions) -> list[dict]:
    # The Lease holder's identity (POD_NAME), the Lease's and Service's namespace (POD_NAMESPACE),
    # and the Pod that owns this replica's proxy-answers ConfigMap (POD_UID, with POD_NAME).
    env: list[dict] = [{"name": var, "valueFrom": {"fieldRef": {"fieldPath": path}}}
                       for var, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                                         ("POD_UID", "metadata.uid"))]
    if options.rate_limit_redis_secret:
        # `serve --rate-limit-redis` from the environment: a password in the URL stays in the Secret.
        env.append({"name": REDIS_URL_ENV, "valueFrom": {"secretKeyRef": {
            "name": options.rate_limit_redis_secret, "key": REDIS_URL_SECRET_KEY}}})
    return env


def _container(options: ManifestOptions) -> dict:
    probe = {"httpGet": {"path": "/healthz", "port": DEBUG_PORT_NAME}, "periodSeconds": 10, "timeoutSeconds": 2,
             "failureThreshold": 3}
    return {
        "name": NAME,
        "image": options.image_ref,
        "imagePullPolicy": "IfNotPresent",
        "args": serve_args(),
        "env": _env(options),
        "ports": [{"name": XDS_PORT_NAME, "containerPort": XDS_PORT, "protocol": "TCP"},
                  {"name": DEBUG_PORT_NAME, "containerPort": DEBUG_PORT, "protocol": "TCP"}],
        # /healthz answers while the event loop does; /readyz once the first list is translated and
        # xDS listens, so a Service sends proxies only to replicas that have config to give.
        "livenessProbe": probe,
        "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": DEBUG_PORT_NAME}, "periodSeconds": 5},
        # DESIGN §9: about 300 MB peak at 10k Services and 10k routes; the limit leaves room above.
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                      "limits": {"cpu": "2", "memory": "1Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        # The root filesystem is read-only: a writable /tmp for anything that needs a temporary file.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment(options: ManifestOptions) -> dict:
    """The Deployment: `options.replicas` replicas, preferably on different nodes."""
    anti_affinity = {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": dict(SELECTOR)},
                                            "topologyKey": "kubernetes.io/hostname"}}]}
    pod_meta = {"labels": dict(options.labels),
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(DEBUG_PORT),
                                "prometheus.io/path": "/metrics"}}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": options.namespace, "labels": dict(options.labels)},
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": dict(SELECTOR)},
            "template": {"metadata": pod_meta, "spec": {
                "serviceAccountName": NAME,
                "automountServiceAccountToken": True,  # the in-cluster config reads its token
                "securityContext": {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "affinity": {"podAntiAffinity": anti_affinity},
                "containers": [_container(options)],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
            }},
        },
    }


def disruption_budget(options: ManifestOptions) -> dict | None:
    """minAvailable 1; None with a single replica, whose budget would block every node drain."""
    if options.replicas < 2:
        return None
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": NAME, "namespace": options.namespace, "labels": dict(options.labels)},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(SELECTOR)}}}
