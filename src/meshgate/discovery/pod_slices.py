"""Standalone EndpointSlices: what Kubernetes' EndpointSlice controller would write for a Service.

In a cluster the EndpointSlice controller turns a selector Service and its Pods into
EndpointSlices; standalone there is no such controller, so meshgate computes them itself
(issue 5 item 2, ARCHITECTURE §2/§3). This module is a pure function of one Service, the Pods and the
Nodes, and follows the controller (kubernetes/kubernetes, staging/src/k8s.io/endpointslice:
reconciler.go, utils.go, util/controller_utils.go) for a first sync with no existing slices:

- No slices for an ExternalName Service or a Service without a selector (``selector`` absent
  or empty): those get slices out of band, hand-written (controller ``syncService``).
- A Pod is used when it is in the Service's namespace, its labels contain the selector, it
  is not terminal (phase Succeeded/Failed) and it has an IP (``ShouldPodBeInEndpoints``).
  meshgate's Pod model carries no deletionTimestamp, so no Pod is ever seen as terminating.
- Ports (``getEndpointPorts`` / ``FindPort``): one EndpointPort per Service port, named and
  with the protocol and appProtocol of the Service port; a numeric targetPort is used as is,
  a named one is looked up among the Pod's container ports with the same name *and* protocol.
  A port that does not resolve is left out of that Pod's port list (the Pod keeps its
  endpoint); Pods are then grouped by their resolved port list, and every distinct list gets
  its own slices.
- Endpoint (``podToEndpoint``): addresses = the Pod's IP of the slice's address family
  (canonical text form); serving = the Pod's Ready condition; terminating = False;
  ready = serving and not terminating; nodeName from the Pod; zone from the Node's
  ``topology.kubernetes.io/zone`` label (None when the label is empty or the Node unknown);
  targetRef = the Pod. No hints: the hints controller adds those.
- Address families (``getAddressTypesForService``): one slice family per family of the
  Service's cluster IPs. A Service without usable cluster IPs (headless, or no clusterIP
  written, as is usual in files) takes the families of its selected Pods' IPs, IPv4 when
  there are none. Families are emitted IPv4 first.
- At most ``MAX_ENDPOINTS_PER_SLICE`` endpoints per slice.
- When a family would get no slice at all, one placeholder slice is written for it, with
  no ports and no endpoints, as the controller does.
- Labels (``setEndpointSliceLabels``): the Service's labels, except the reserved keys
  ``kubernetes.io/service-name``, ``endpointslice.kubernetes.io/managed-by`` and
  ``service.kubernetes.io/headless``; then ``service.kubernetes.io/headless: ""`` for a headless
  Service, ``kubernetes.io/service-name`` and the managed-by value ``MESHGATE_CONTROLLER``.

What differs from the controller, on purpose:

- Names. The controller lets the API server name slices (generateName ``<service>-`` plus
  random characters). meshgate needs names that are the same on every run, so a slice is
  named ``<service>-<hash>-<index>``: ``<hash>`` is the first 10 hex digits of the SHA-256 of
  the slice's address type and its sorted port list (name, port, protocol, appProtocol) as
  JSON, ``<index>`` counts that group's slices from 0. Pods are taken in name order and each
  group is cut into consecutive slices of 100, so the same input always gives the same slices.
  Groups appear in the order of the first Pod (by name) that falls into them; the
  placeholder slice is a group with no ports.
- The headless label goes on slices of a Service with ``clusterIP: None`` only. The
  controller also adds it when clusterIP is empty, which never happens in a cluster (the API
  server allocates one) but is usual in files, where it would be wrong.
- A Pod whose Node is unknown keeps its endpoint (zone None). The controller skips such a Pod
  and retries the sync later; standalone inputs often have no Node objects at all.
- Not modelled, for lack of the fields: publishNotReadyAddresses, endpoint hostname
  (pod hostname/subdomain), restartable init-container (sidecar) ports in FindPort, owner
  references, the last-change-trigger-time annotation and the Pod uid in targetRef.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping

from ..resources.core import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    Pod,
    Service,
    ServicePort,
    TargetRef,
)
from ..resources.meta import Meta, object_uid
from .model import ZONE_LABEL, selector_matches

__all__ = [
    "HEADLESS_LABEL",
    "MANAGED_BY_LABEL",
    "MAX_ENDPOINTS_PER_SLICE",
    "MESHGATE_CONTROLLER",
    "SERVICE_NAME_LABEL",
    "ZONE_LABEL",
    "slices_for_service",
]

MESHGATE_CONTROLLER = "meshgate.io/endpointslice-controller"
MAX_ENDPOINTS_PER_SLICE = 100

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
HEADLESS_LABEL = "service.kubernetes.io/headless"

_RESERVED_LABELS = frozenset({SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL})
_TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
_FAMILIES = ("IPv4", "IPv6")
_HASH_DIGITS = 10

_PortKey = tuple[tuple[str, int, str, str | None], ...]


def slices_for_service(service: Service, pods: Iterable[Pod], nodes_by_name: Mapping[str, Node]) -> list[EndpointSlice]:
    """The EndpointSlices the EndpointSlice controller would write for `service` (see module doc)."""
    if service.type == "ExternalName" or not service.selector:
        return []
    selected = sorted(
        (p for p in pods if _selected(service, p)),
        key=lambda p: p.meta.name,
    )
    slices: list[EndpointSlice] = []
    for family in _address_types(service, selected):
        groups: dict[_PortKey, tuple[tuple[EndpointPort, ...], list[Endpoint]]] = {}
        for pod in selected:
            address = _address_of(pod, family)
            if address is None:
                continue
            ports = _endpoint_ports(service, pod)
            key = _port_key(ports)
            group = groups.setdefault(key, (ports, []))
            group[1].append(_endpoint(pod, address, nodes_by_name))
        if not groups:
            groups[()] = ((), [])  # the placeholder: no ports, no endpoints
        for key, (ports, endpoints) in groups.items():
            prefix = f"{service.meta.name}-{_group_hash(family, key)}"
            chunks = [endpoints[i:i + MAX_ENDPOINTS_PER_SLICE]
                      for i in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE)] or [[]]
            for index, chunk in enumerate(chunks):
                slices.append(_slice(service, f"{prefix}-{index}", family, ports, chunk))
    return slices


def _selected(service: Service, pod: Pod) -> bool:
    """In the Service's namespace, matching its selector, not terminal, with an IP."""
    if pod.meta.namespace != service.meta.namespace:
        return False
    if not selector_matches(service.selector or {}, pod.meta.labels):
        return False
    if pod.phase in _TERMINAL_PHASES:
        return False
    return bool(pod.pod_ips)


def _parse_ip(text: str) -> tuple[str, str] | None:
    """(family, canonical text) of an IP; an IPv4-mapped IPv6 address counts as IPv4, as in Go."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "IPv4", str(ip.ipv4_mapped)
        return "IPv6", str(ip)
    return "IPv4", str(ip)


def _address_types(service: Service, pods: list[Pod]) -> list[str]:
    """The address types to write slices for, IPv4 first."""
    # A headless Service's ("None",) parses as no IP, like an unassigned clusterIP.
    families = {parsed[0] for ip in service.cluster_ips if (parsed := _parse_ip(ip))}
    if not families:
        families = {parsed[0] for pod in pods for ip in pod.pod_ips if (parsed := _parse_ip(ip))}
    return [f for f in _FAMILIES if f in families] or ["IPv4"]


def _address_of(pod: Pod, family: str) -> str | None:
    """The Pod's first IP of that family (the API server allows one per family)."""
    for ip in pod.pod_ips:
        parsed = _parse_ip(ip)
        if parsed is not None and parsed[0] == family:
            return parsed[1]
    return None


def _find_port(pod: Pod, service_port: ServicePort) -> int | None:
    """The Pod port a Service port targets: a number as is, a name among its container ports."""
    target = service_port.target_port
    if isinstance(target, int):
        return target
    for cp in pod.container_ports:
        if cp.name == target and cp.protocol == service_port.protocol:
            return cp.port
    return None


def _endpoint_ports(service: Service, pod: Pod) -> tuple[EndpointPort, ...]:
    """One EndpointPort per Service port that resolves on this Pod, in the Service's order."""
    ports: list[EndpointPort] = []
    for sp in service.ports:
        number = _find_port(pod, sp)
        if number is None:
            continue
        ports.append(EndpointPort(sp.name, number, sp.protocol, sp.app_protocol))
    return tuple(ports)


def _port_key(ports: tuple[EndpointPort, ...]) -> _PortKey:
    """What groups endpoints: the resolved port list, order ignored."""
    return tuple(sorted(((p.name, p.port or 0, p.protocol, p.app_protocol) for p in ports),
                        key=lambda t: (t[0], t[1], t[2], t[3] or "")))


def _group_hash(family: str, key: _PortKey) -> str:
    text = json.dumps([family, [list(t) for t in key]], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:_HASH_DIGITS]


def _endpoint(pod: Pod, address: str, nodes_by_name: Mapping[str, Node]) -> Endpoint:
    serving = pod.ready
    terminating = False  # the Pod model has no deletionTimestamp
    node_name = pod.node_name or None
    node = nodes_by_name.get(node_name) if node_name else None
    zone = (node.meta.labels.get(ZONE_LABEL) or None) if node is not None else None
    return Endpoint(
        addresses=(address,),
        ready=serving and not terminating,
        serving=serving,
        terminating=terminating,
        node_name=node_name,
        zone=zone,
        hints_zones=None,
        hints_nodes=None,
        target_ref=TargetRef("Pod", pod.meta.namespace, pod.meta.name),
    )


def _labels(service: Service) -> dict[str, str]:
    labels = {k: v for k, v in service.meta.labels.items() if k not in _RESERVED_LABELS}
    if service.headless:
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = service.meta.name
    labels[MANAGED_BY_LABEL] = MESHGATE_CONTROLLER
    return labels


def _slice(service: Service, name: str, family: str, ports: tuple[EndpointPort, ...],
           endpoints: list[Endpoint]) -> EndpointSlice:
    namespace = service.meta.namespace
    meta = Meta(
        name=name,
        namespace=namespace,
        labels=_labels(service),
        annotations={},
        generation=1,
        uid=object_uid("EndpointSlice", namespace, name),
        creation_timestamp=service.meta.creation_timestamp,
    )
    return EndpointSlice(meta, service.source, service.meta.name, family, ports, tuple(endpoints))
