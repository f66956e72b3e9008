"""The Kubernetes objects of one Gateway's proxy, as pure data (dicts the API server takes).

For a Gateway meshgate serves (ingress or waypoint): a ServiceAccount, a ConfigMap holding the
Envoy bootstrap (its node is the Gateway; the Pod's name becomes the node id through Envoy's
`--service-node`, so meshgate can find the Pod's Node and hence the proxy's locality), a
Deployment of the official Envoy image, and a Service exposing the Gateway's listener ports. All
carry `spec.infrastructure`'s labels and annotations (ir.Infrastructure) and an owner reference
to the Gateway, so that deleting the Gateway deletes them (Kubernetes' garbage collector).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from .. import ir
from ..envoy.admin_paths import expose_admin_path
from ..envoy.bootstrap import XdsClientTLS, ads_bootstrap, bootstrap_text
from ..envoy.stats import PROMETHEUS_LISTENER, PROMETHEUS_PATH, PROMETHEUS_PORT, inclusion_prefixes
from .names import proxy_name
from .readiness import READINESS_PATH, READINESS_PORT, add_readiness

BOOTSTRAP_KEY = "bootstrap.json"
BOOTSTRAP_DIR = "/etc/meshgate/bootstrap"  # not a parent of XDS_CERT_DIR: no mount inside a read-only volume
XDS_CERT_DIR = "/etc/meshgate/xds"  # the proxy's xDS client certificate: a Secret volume
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "meshgate"
GATEWAY_API = "gateway.networking.k8s.io/v1"


@dataclass(frozen=True, slots=True)
class ProxyDefaults:
    """What every provisioned proxy gets unless the Gateway says otherwise."""

    image: str  # the official Envoy image of the version meshgate is tested with
    xds_host: str  # where proxies reach meshgate (its Service's DNS name)
    xds_port: int = 18000
    replicas: int = 1
    service_type: str = "LoadBalancer"
    log_level: str = "warning"
    xds_tls: bool = False  # proxies reach meshgate over mutual TLS with a certificate Secret each


def xds_secret_name(proxy: str) -> str:
    """The Secret holding a proxy's xDS client certificate (tls.crt, tls.key, ca.crt)."""
    return f"{proxy}-xds"


@dataclass(frozen=True, slots=True)
class GatewayOwner:
    """The Gateway the objects belong to (its uid makes the owner reference)."""

    namespace: str
    name: str
    uid: str
    class_name: str


def _meta(owner: GatewayOwner, infra: ir.Infrastructure) -> dict:
    labels = {**dict(infra.labels), MANAGED_BY: MANAGED_BY_VALUE}
    meta: dict = {"name": proxy_name(owner.name, owner.class_name), "namespace": owner.namespace,
                  "labels": labels,
                  "ownerReferences": [{"apiVersion": GATEWAY_API, "kind": "Gateway", "name": owner.name,
                                       "uid": owner.uid, "controller": True, "blockOwnerDeletion": True}]}
    if infra.annotations:
        meta["annotations"] = dict(infra.annotations)
    return meta


def _selector(infra: ir.Infrastructure) -> dict[str, str]:
    # The GEP-1762 labels every object carries (gateway/infrastructure.py): they pick the Pods.
    labels = dict(infra.labels)
    return {k: labels[k] for k in ("gateway.networking.k8s.io/gateway-name",
                                   "gateway.networking.k8s.io/gateway-class-name") if k in labels}


def _ports(cfg: ir.GatewayConfig) -> list[int]:
    return sorted({lst.port for lst in cfg.listeners})


def bootstrap(cfg: ir.GatewayConfig, defaults: ProxyDefaults) -> str:
    """The Envoy bootstrap of the Gateway's proxies (the same for every replica)."""
    tls = XdsClientTLS(Path(XDS_CERT_DIR, "ca.crt"), Path(XDS_CERT_DIR, "tls.crt"), Path(XDS_CERT_DIR, "tls.key"),
                       server_name=defaults.xds_host) if defaults.xds_tls else None
    annotations = dict(cfg.infrastructure.annotations)
    boot = ads_bootstrap(cfg.key, defaults.xds_host, defaults.xds_port, admin_address="127.0.0.1",
                         admin_port=19000, labels=dict(cfg.infrastructure.labels),
                         annotations=annotations or None, node_id=cfg.key, tls=tls,
                         stats_prefixes=inclusion_prefixes(annotations))
    add_readiness(boot)
    if PROMETHEUS_PORT not in _ports(cfg):  # a Gateway listener on it keeps it (no statistics then)
        expose_admin_path(boot, PROMETHEUS_LISTENER, PROMETHEUS_PORT, PROMETHEUS_PATH)
    # Keys sorted: protobuf's JSON does not promise the order of a Struct's fields, and a
    # ConfigMap whose bytes move would be rewritten (and its Pods' volume updated) for nothing.
    return json.dumps(json.loads(bootstrap_text(boot, "json")), sort_keys=True, indent=2) + "\n"


def _autoscaler(meta: dict, params: ir.ProxyParameters) -> dict | None:
    if params.autoscaling is None:
        return None
    low, high, cpu = params.autoscaling
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta,
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"]},
                     "minReplicas": low, "maxReplicas": high,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}]}}


def _disruption_budget(meta: dict, selector: dict[str, str], params: ir.ProxyParameters) -> dict | None:
    if params.min_available is None and params.max_unavailable is None:
        return None
    spec: dict = {"selector": {"matchLabels": selector}}
    if params.min_available is not None:
        spec["minAvailable"] = params.min_available
    else:
        spec["maxUnavailable"] = params.max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta, "spec": spec}


def proxy_objects(cfg: ir.GatewayConfig, owner: GatewayOwner, defaults: ProxyDefaults) -> list[dict]:
    """ServiceAccount, ConfigMap, Deployment, Service, and the HorizontalPodAutoscaler and
    PodDisruptionBudget its parameters ask for, for one Gateway, in the order to apply them (no
    Service while the Gateway has no listener to expose: one without ports is invalid)."""
    infra = cfg.infrastructure
    params = infra.parameters
    meta = _meta(owner, infra)
    name = meta["name"]
    selector = _selector(infra)
    pod_labels = {**dict(infra.labels), MANAGED_BY: MANAGED_BY_VALUE}
    pod_meta: dict = {"labels": pod_labels}
    scrape = {} if PROMETHEUS_PORT in _ports(cfg) else {
        "prometheus.io/scrape": "true", "prometheus.io/port": str(PROMETHEUS_PORT), "prometheus.io/path": PROMETHEUS_PATH}
    if infra.annotations or scrape:
        pod_meta["annotations"] = {**scrape, **dict(infra.annotations)}  # the Gateway's own win
    env = [{"name": var, "valueFrom": {"fieldRef": {"fieldPath": path}}}
           for var, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
                             ("NODE_NAME", "spec.nodeName"))]
    container = {
        "name": "envoy",
        "image": params.image or defaults.image,
        "args": ["-c", f"{BOOTSTRAP_DIR}/{BOOTSTRAP_KEY}", "--service-node", "$(POD_NAME)",
                 "--log-level", params.log_level or defaults.log_level, "--drain-strategy", "immediate"],
        "env": env,
        "ports": [{"name": f"listener-{p}", "containerPort": p, "protocol": "TCP"} for p in _ports(cfg)]
        + ([] if PROMETHEUS_PORT in _ports(cfg) else
           [{"name": "metrics", "containerPort": PROMETHEUS_PORT, "protocol": "TCP"}]),
        # Ready once Envoy is LIVE: the bootstrap's readiness listener (cluster/readiness.py).
        "readinessProbe": {"httpGet": {"path": READINESS_PATH, "port": READINESS_PORT},
                           "periodSeconds": 5, "timeoutSeconds": 2},
        "volumeMounts": [{"name": "bootstrap", "mountPath": BOOTSTRAP_DIR, "readOnly": True}]
        + ([{"name": "xds-certificate", "mountPath": XDS_CERT_DIR, "readOnly": True}] if defaults.xds_tls else []),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 101, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": dict(params.requests or (("cpu", "100m"), ("memory", "128Mi"))),
                      **({"limits": dict(params.limits)} if params.limits else {})},
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
        "spec": {
            # Under an autoscaler the replica count is its to set (a rendered one would fight it).
            **({} if params.autoscaling else {"replicas": defaults.replicas if params.replicas is None
                                              else params.replicas}),
            "selector": {"matchLabels": selector},
            "template": {"metadata": pod_meta, "spec": {
                "serviceAccountName": name,
                "automountServiceAccountToken": False,  # Envoy needs no API access
                "containers": [container],
                "volumes": [{"name": "bootstrap", "configMap": {"name": name}}]
                + ([{"name": "xds-certificate", "secret": {"secretName": xds_secret_name(name), "defaultMode": 0o440}}]
                   if defaults.xds_tls else []),
                # Listener ports below 1024 without privileges (a safe sysctl, as Istio's gateways do).
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"},
                                    "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]},
            }},
        },
    }
    service_meta = meta
    if params.service_annotations:
        service_meta = {**meta, "annotations": {**meta.get("annotations", {}), **dict(params.service_annotations)}}
    service_type = params.service_type or defaults.service_type
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": service_meta,
        "spec": {"type": service_type, "selector": selector,
                 **({"externalTrafficPolicy": params.external_traffic_policy}
                    if params.external_traffic_policy and service_type != "ClusterIP" else {}),
                 "ports": [{"name": f"listener-{p}", "port": p, "targetPort": p, "protocol": "TCP"}
                           for p in _ports(cfg)]},
    }
    out = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
         "data": {BOOTSTRAP_KEY: bootstrap(cfg, defaults)}},
        deployment,
    ]
    if _ports(cfg):
        out.append(service)
    out += [o for o in (_autoscaler(meta, params), _disruption_budget(meta, selector, params)) if o is not None]
    # Each object its own metadata: callers annotate them one by one.
    return [{**obj, "metadata": copy.deepcopy(obj["metadata"])} for obj in out]
