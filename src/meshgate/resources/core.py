"""Kubernetes core kinds (v1 Namespace, Service, Pod, Node, Secret, ConfigMap; discovery.k8s.io/v1 EndpointSlice)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from . import formats
from .fields import Fields
from .meta import Meta, Source

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")
TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameZone", "PreferSameNode")


@dataclass(frozen=True, slots=True)
class Namespace:
    meta: Meta
    source: Source
    kind = "Namespace"


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A Service port; target_port is a number or a container port name."""

    name: str
    port: int
    target_port: int | str
    protocol: str
    app_protocol: str | None


@dataclass(frozen=True, slots=True)
class Service:
    meta: Meta
    source: Source
    type: str
    cluster_ips: tuple[str, ...]  # empty when unassigned; ("None",) for headless
    ports: tuple[ServicePort, ...]
    selector: dict[str, str] | None
    traffic_distribution: str | None
    kind = "Service"

    @property
    def headless(self) -> bool:
        """True for a headless Service (clusterIP: None)."""
        return self.cluster_ips == ("None",)


@dataclass(frozen=True, slots=True)
class EndpointPort:
    name: str
    port: int | None
    protocol: str
    app_protocol: str | None


@dataclass(frozen=True, slots=True)
class TargetRef:
    kind: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One EndpointSlice endpoint. Conditions are None when unset (ready: nil means ready)."""

    addresses: tuple[str, ...]
    ready: bool | None
    serving: bool | None
    terminating: bool | None
    node_name: str | None
    zone: str | None
    hints_zones: tuple[str, ...] | None
    hints_nodes: tuple[str, ...] | None
    target_ref: TargetRef | None


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    meta: Meta
    source: Source
    service_name: str | None  # the kubernetes.io/service-name label
    address_type: str
    ports: tuple[EndpointPort, ...] | None  # None or empty: the slice defines no ports
    endpoints: tuple[Endpoint, ...]
    kind = "EndpointSlice"


@dataclass(frozen=True, slots=True)
class ContainerPort:
    name: str | None
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Pod:
    meta: Meta
    source: Source
    node_name: str | None
    pod_ips: tuple[str, ...]
    ready: bool
    phase: str | None
    container_ports: tuple[ContainerPort, ...]
    kind = "Pod"


@dataclass(frozen=True, slots=True)
class Node:
    meta: Meta
    source: Source
    allocatable_cpu_milli: int | None
    ready: bool
    kind = "Node"


@dataclass(frozen=True, slots=True)
class Secret:
    """A Secret; data values are decoded bytes (stringData merged in, as the API server does)."""

    meta: Meta
    source: Source
    type: str
    data: dict[str, bytes]
    kind = "Secret"


@dataclass(frozen=True, slots=True)
class ConfigMap:
    """A ConfigMap; `data` holds its string values, and its binaryData values decoded, as bytes
    (a Gateway's frontend TLS validation reads a CA bundle from its `ca.crt`)."""

    meta: Meta
    source: Source
    data: dict[str, bytes]
    # The line of each `data` key, where known (what is read from a value names lines by them).
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    kind = "ConfigMap"


def parse_namespace(f: Fields, meta: Meta, source: Source) -> Namespace:
    """Namespace: only metadata matters."""
    return Namespace(meta, source)


def parse_service(f: Fields, meta: Meta, source: Source) -> Service:
    """Service.spec."""
    spec = f.map("spec") or Fields({}, "spec", f.ctx, f.line)
    stype = spec.str("type", default="ClusterIP", enum=SERVICE_TYPES) or "ClusterIP"
    cluster_ip = spec.str("clusterIP")
    ips = spec.strs("clusterIPs", max_items=2) or []
    if cluster_ip and not ips:
        ips = [cluster_ip]
    elif cluster_ip and ips and ips[0] != cluster_ip:
        spec.error("clusterIPs", "clusterIPs[0] must equal clusterIP")
    for i, ip in enumerate(ips):
        if ip not in ("None", "") and formats.ip_address(ip):
            spec.ctx.error(spec.line_of("clusterIPs" if spec.has("clusterIPs") else "clusterIP"),
                           spec.sub("clusterIPs") + f"[{i}]", f"invalid value {ip!r}: must be an IP address or None")
            ips = []
            break
    ports: list[ServicePort] = []
    seen_names: set[str] = set()
    seen_ports: set[tuple[int, str]] = set()
    port_fields = list(spec.maps("ports"))
    for pf in port_fields:
        name = pf.str("name", default="", check=formats.dns1123_label if pf.has("name") and pf.data.get("name") else None)
        port = pf.int("port", required=True, min=1, max=65535)
        protocol = pf.str("protocol", default="TCP", enum=PROTOCOLS) or "TCP"
        target = pf.int_or_str("targetPort")
        if isinstance(target, int) and not 1 <= target <= 65535:
            pf.error("targetPort", f"must be between 1 and 65535, got {target}")
            continue
        if isinstance(target, str) and formats.dns1123_label(target):
            pf.error("targetPort", f"invalid value {target!r}: must be a port number or an IANA_SVC_NAME")
            continue
        app_protocol = pf.str("appProtocol")
        if port is None or name is None:
            continue
        if len(port_fields) > 1 and not name:
            pf.error("name", "required when a Service has more than one port")
            continue
        if name in seen_names and name:
            pf.error("name", f"duplicate port name {name!r}")
            continue
        if (port, protocol) in seen_ports:
            pf.error("port", f"duplicate port {port}/{protocol}")
            continue
        seen_names.add(name)
        seen_ports.add((port, protocol))
        ports.append(ServicePort(name, port, target if target is not None else port, protocol, app_protocol))
    selector = spec.str_map("selector", check_key=formats.label_key) if spec.has("selector") else None
    distribution = spec.str("trafficDistribution")
    if distribution is not None and distribution not in TRAFFIC_DISTRIBUTIONS:
        # Kubernetes accepts only these values; unknown ones are refused by the API server.
        spec.error("trafficDistribution", f"unsupported value {distribution!r}: must be one of {', '.join(TRAFFIC_DISTRIBUTIONS)}")
        distribution = None
    return Service(meta, source, stype, tuple(ips), tuple(ports), selector, distribution)


def _condition(f: Fields | None, key: str) -> bool | None:
    return f.bool(key) if f is not None else None


def parse_endpoint_slice(f: Fields, meta: Meta, source: Source) -> EndpointSlice:
    """EndpointSlice (no spec: fields at top level)."""
    address_type = f.str("addressType", required=True, enum=("IPv4", "IPv6", "FQDN")) or "IPv4"
    ports: list[EndpointPort] | None = None
    if f.has("ports"):
        ports = []
        for pf in f.maps("ports", max_items=100):
            name = pf.str("name", default="")
            port = pf.int("port", min=1, max=65535)
            protocol = pf.str("protocol", default="TCP", enum=PROTOCOLS) or "TCP"
            if name is None or (pf.has("port") and port is None):
                continue
            ports.append(EndpointPort(name, port, protocol, pf.str("appProtocol")))
    endpoints: list[Endpoint] = []
    check_addr = {"IPv4": formats.ipv4_address, "IPv6": formats.ipv6_address}.get(address_type, formats.dns1123_subdomain)
    for ef in f.maps("endpoints", max_items=1000):
        addrs = ef.strs("addresses", required=True, min_items=1, max_items=100, check=check_addr)
        if not addrs:
            continue
        cond = ef.map("conditions")
        hints_zones = hints_nodes = None
        hf = ef.map("hints")
        if hf is not None:
            if hf.has("forZones"):
                hints_zones = tuple(z for zf in hf.maps("forZones", max_items=8) if (z := zf.str("name", required=True)))
            if hf.has("forNodes"):
                hints_nodes = tuple(n for nf in hf.maps("forNodes", max_items=8) if (n := nf.str("name", required=True)))
        target = None
        tf = ef.map("targetRef")
        if tf is not None:
            target = TargetRef(tf.str("kind", default="Pod") or "Pod",
                               tf.str("namespace", default=meta.namespace) or meta.namespace,
                               tf.str("name", default="") or "")
        endpoints.append(
            Endpoint(
                tuple(addrs),
                _condition(cond, "ready"),
                _condition(cond, "serving"),
                _condition(cond, "terminating"),
                ef.str("nodeName"),
                ef.str("zone"),
                hints_zones,
                hints_nodes,
                target,
            )
        )
    service_name = meta.labels.get("kubernetes.io/service-name")
    if service_name is None:
        f.ctx.error(f.line, "metadata.labels", "no kubernetes.io/service-name label: the slice belongs to no Service",
                    severity="warning")
    return EndpointSlice(meta, source, service_name, address_type, tuple(ports) if ports is not None else None,
                         tuple(endpoints))


def parse_pod(f: Fields, meta: Meta, source: Source) -> Pod:
    """Pod: the fields endpoint discovery reads (node, IPs, readiness, container ports)."""
    spec = f.map("spec")
    status = f.map("status")
    node_name = spec.str("nodeName") if spec else None
    cports: list[ContainerPort] = []
    if spec is not None:
        for cf in spec.maps("containers"):
            for pf in cf.maps("ports"):
                port = pf.int("containerPort", required=True, min=1, max=65535)
                if port is not None:
                    cports.append(ContainerPort(pf.str("name"), port, pf.str("protocol", default="TCP") or "TCP"))
    ips: list[str] = []
    ready = False
    phase = None
    if status is not None:
        phase = status.str("phase")
        for pf in status.maps("podIPs"):
            ip = pf.str("ip", check=formats.ip_address)
            if ip:
                ips.append(ip)
        single = status.str("podIP", check=formats.ip_address)
        if single and single not in ips:
            ips.insert(0, single)
        for cf in status.maps("conditions"):
            if cf.str("type") == "Ready":
                ready = cf.str("status") == "True"
    return Pod(meta, source, node_name, tuple(ips), ready, phase, tuple(cports))


def parse_cpu_milli(value: str | float) -> int | None:
    """Kubernetes CPU quantity ("4", "3500m", 2.5) in millicores; None when unreadable."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value * 1000)
        if isinstance(value, str):
            if value.endswith("m"):
                return int(value[:-1])
            return int(float(value) * 1000)
    except ValueError:
        return None
    return None


def parse_node(f: Fields, meta: Meta, source: Source) -> Node:
    """Node: allocatable CPU and the Ready condition (labels carry zone and role)."""
    status = f.map("status")
    cpu = None
    ready = False
    if status is not None:
        alloc = status.map("allocatable")
        if alloc is not None and alloc.has("cpu"):
            cpu = parse_cpu_milli(alloc.data["cpu"])
            if cpu is None:
                alloc.error("cpu", f"invalid quantity {alloc.data['cpu']!r}")
        for cf in status.maps("conditions"):
            if cf.str("type") == "Ready":
                ready = cf.str("status") == "True"
    return Node(meta, source, cpu, ready)


def parse_config_map(f: Fields, meta: Meta, source: Source) -> ConfigMap:
    """ConfigMap: data is plain text, binaryData base64; a key may not be in both."""
    data = {key: value.encode() for key, value in f.str_map("data").items()}
    lines = dict(getattr(f.data.get("data"), "key_lines", {}))
    key_lines = getattr(f.data.get("binaryData"), "key_lines", {})
    for key, value in f.str_map("binaryData").items():
        line = key_lines.get(key, f.line_of("binaryData"))
        if key in data:
            f.ctx.error(line, f"binaryData.{key}", "must not also be a key of data")
            continue
        try:
            data[key] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            f.ctx.error(line, f"binaryData.{key}", "must be base64-encoded")
    return ConfigMap(meta, source, data, lines)


def parse_secret(f: Fields, meta: Meta, source: Source) -> Secret:
    """Secret: data is base64; stringData is plain and wins, as the API server merges them."""
    stype = f.str("type", default="Opaque") or "Opaque"
    data: dict[str, bytes] = {}
    key_lines = getattr(f.data.get("data"), "key_lines", {})
    for key, value in f.str_map("data").items():
        try:
            data[key] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            f.ctx.error(key_lines.get(key, f.line_of("data")), f"data.{key}", "must be base64-encoded")
    for key, value in f.str_map("stringData").items():
        data[key] = value.encode()
    return Secret(meta, source, stype, data)
