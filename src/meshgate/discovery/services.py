"""Kubernetes Services as service models."""

from __future__ import annotations

from ..resources.core import Service
from ..resources.meta import metadata_annotations
from .model import PortModel, ServiceModel

CLUSTER_DOMAIN = "cluster.local"


def service_host(name: str, namespace: str) -> str:
    """The cluster-local FQDN of a Service."""
    return f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}"


def service_model(svc: Service) -> ServiceModel:
    """A Kubernetes Service as a service model."""
    return ServiceModel(
        kind="Service",
        namespace=svc.meta.namespace,
        name=svc.meta.name,
        hosts=(service_host(svc.meta.name, svc.meta.namespace),),
        vips=() if svc.headless else tuple(ip for ip in svc.cluster_ips if ip),
        ports=tuple(PortModel(p.name, p.port, p.target_port, p.protocol, p.app_protocol) for p in svc.ports),
        labels=svc.meta.labels,
        headless=svc.headless,
        external_name=None,
        created=svc.meta.creation_timestamp,
        annotations=metadata_annotations(svc.meta.annotations),
        traffic_distribution=svc.meta.annotations.get("networking.istio.io/traffic-distribution")
        or svc.traffic_distribution,
    )
