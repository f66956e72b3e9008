"""Kubernetes Services as service models."""

from __future__ import annotations

from collections.abc import Mapping

from ..naming import service_host
from ..resources.core import Service
from ..resources.meta import metadata_annotations
from .model import PortModel, ServiceModel
from .traffic_distribution import traffic_distribution


def service_model(svc: Service, namespace_annotations: Mapping[str, str] | None = None) -> ServiceModel:
    """A Kubernetes Service as a service model (its Namespace's annotations may set its traffic
    distribution)."""
    td = traffic_distribution("Service", svc.traffic_distribution, svc.meta.annotations, svc.meta.namespace,
                              namespace_annotations or {})
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
        traffic_distribution=td.preference,
        traffic_distribution_source=td.source,
    )
