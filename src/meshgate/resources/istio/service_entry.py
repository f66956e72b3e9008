"""ServiceEntry: parsing and Istio's validation (ValidateServiceEntry)."""

from __future__ import annotations

import ipaddress

from ..fields import Fields
from ..meta import Meta, Source
from .formats import fqdn, ip_subnet, port_name, protocol, wildcard_domain
from .model import (
    HTTP_PROTOCOLS,
    LOCATIONS,
    PROTOCOLS,
    RESOLUTIONS,
    TCP_PROTOCOLS,
    TLS_PROTOCOLS,
    ServiceEntry,
    ServiceEntryPort,
)
from .readers import _export_to, _selector_labels
from .workload_entry import _parse_workload


def _parse_se_ports(spec: Fields) -> tuple[list[ServiceEntryPort], list[tuple[Fields, str | None]], list[str]]:
    """The ports, each (Fields, protocol) for later rules, and every port name written."""
    ports: list[ServiceEntryPort] = []
    port_fields: list[tuple[Fields, str | None]] = []
    names: list[str] = []
    numbers: set[int] = set()
    for pf in spec.maps("ports", max_items=256):
        number = pf.int("number", required=True, min=1, max=65535)
        raw_name = pf.data.get("name")
        name = pf.str("name", required=True, max_len=256, check=port_name)
        proto_raw = pf.str("protocol", max_len=256, check=protocol)
        target = pf.int("targetPort", min=1, max=65535)
        if isinstance(raw_name, str):
            if raw_name in names:
                pf.error("name", f"service entry port name {raw_name!r} already defined")
                name = None
            names.append(raw_name)
        if number is not None:
            if number in numbers:
                pf.error("number", f"service entry port {number} already defined")
                number = None
            else:
                numbers.add(number)
        canonical = PROTOCOLS[proto_raw.lower()] if proto_raw else None
        port_fields.append((pf, canonical))
        if number is None or name is None or (pf.has("protocol") and proto_raw is None) \
                or (pf.has("targetPort") and target is None):
            continue
        ports.append(ServiceEntryPort(number, name, canonical, target))
    return ports, port_fields, names


def parse_service_entry(f: Fields, meta: Meta, source: Source) -> ServiceEntry:
    """ServiceEntry.spec (ValidateServiceEntry and the CRD's rules)."""
    spec = f.map("spec", required=True)
    if spec is None:
        return ServiceEntry(meta, source, (), (), (), "MESH_EXTERNAL", "NONE", (), None, (), ())

    # hosts: at least one; each a (wildcard) domain, never "*" alone.
    def host_check(h: str) -> str | None:
        return "hostname cannot be wildcard" if h == "*" else wildcard_domain(h)

    if not spec.has("hosts"):
        spec.error("hosts", "required field is missing: service entry must have at least one host")
    elif isinstance(spec.data["hosts"], list) and not spec.data["hosts"]:
        spec.error("hosts", "service entry must have at least one host")
    host_items = spec.str_items("hosts", check=host_check, max_items=256)
    for it in host_items:
        if "*" in it.value and not it.value.startswith("*."):
            spec.ctx.error(it.line, it.path, f"partial wildcard {it.value!r} not allowed", severity="warning")
    raw_hosts = spec.data.get("hosts")
    host_count = len(raw_hosts) if isinstance(raw_hosts, list) else 0

    location = spec.str("location", default="MESH_EXTERNAL", enum=LOCATIONS) or "MESH_EXTERNAL"
    resolution = spec.str("resolution", default="NONE", enum=RESOLUTIONS)

    address_items = spec.str_items("addresses", check=ip_subnet, max_items=256)
    cidr = next((it for it in address_items if "/" in it.value), None)
    if cidr is not None and resolution is not None and resolution not in ("NONE", "STATIC"):
        spec.ctx.error(cidr.line, cidr.path, "CIDR addresses are allowed only for NONE/STATIC resolution types")

    ports, port_fields, port_names = _parse_se_ports(spec)

    selector: dict[str, str] | None = None
    if spec.has("workloadSelector"):
        sel = spec.map("workloadSelector")
        if sel is not None:
            selector = _selector_labels(sel, "labels", "service entry: workload selector specified without labels, "
                                        "will be applied to all services in namespace")

    raw_endpoints = spec.data.get("endpoints")
    endpoint_count = len(raw_endpoints) if isinstance(raw_endpoints, list) else 0
    if spec.has("workloadSelector") and endpoint_count:
        spec.error("workloadSelector", "only one of workloadSelector or endpoints can be set")

    address_kind = {"STATIC": "ip", "DNS": "dns", "DNS_ROUND_ROBIN": "dns"}.get(resolution or "")
    check_ports = port_names if address_kind is not None else None
    endpoints = [
        _parse_workload(ef, None, None, address_kind=address_kind, service_ports=check_ports)
        for ef in spec.maps("endpoints", max_items=4096)
    ]

    if resolution == "NONE":
        if endpoint_count:
            spec.error("endpoints", "no endpoints should be provided for resolution type NONE")
        if spec.has("workloadSelector"):
            spec.error("workloadSelector", "workloadSelector should not be set when resolution mode is NONE",
                       severity="warning")
    elif resolution in ("DNS", "DNS_ROUND_ROBIN"):
        if not endpoint_count:
            for it in host_items:
                if fqdn(it.value):
                    spec.ctx.error(it.line, it.path, f"hosts must be FQDN if no endpoints are provided for "
                                   f"resolution mode {resolution}")
        if resolution == "DNS_ROUND_ROBIN" and endpoint_count > 1:
            spec.error("endpoints", f"there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN, "
                       f"got {endpoint_count}")
        if spec.has("workloadSelector"):
            spec.error("workloadSelector", f"workloadSelector should not be set when resolution mode is {resolution}",
                       severity="warning")
        if address_items and host_count > 1 and any(p in TCP_PROTOCOLS for _, p in port_fields):
            spec.error("hosts", "service entry can not have more than one host specified simultaneously with "
                       "address and tcp port", severity="warning")

    # Several hosts on one plain TCP port cannot be told apart, unless the hosts are ignored (NONE).
    if resolution is not None and resolution != "NONE" and host_count > 1:
        for pf, proto in port_fields:
            if proto not in HTTP_PROTOCOLS and proto not in TLS_PROTOCOLS:
                pf.error("protocol", "multiple hosts provided with non-HTTP, non-TLS ports")
                break

    export_to = _export_to(spec, meta.namespace, service_entry=True)
    sans = spec.strs("subjectAltNames") or []
    return ServiceEntry(
        meta, source, tuple(it.value for it in host_items), tuple(it.value for it in address_items),
        tuple(ports), location, resolution or "NONE", tuple(endpoints), selector, export_to, tuple(sans),
        _status_addresses(f),
    )


def _status_addresses(f: Fields) -> tuple[tuple[str, str], ...]:
    """status.addresses as (host, IP): the addresses Istio's allocator gave the entry's hosts.

    As Istio (getHostAddressesFromServiceEntryStatus), a value that is not an IP address is
    skipped; here with a warning. The IP is written in its canonical form (netip's String).
    """
    status = f.map("status")
    if status is None:
        return ()
    out: list[tuple[str, str]] = []
    for af in status.maps("addresses"):
        value = af.str("value")
        host = af.str("host") or ""
        if value is None:
            continue
        try:
            out.append((host, str(ipaddress.ip_address(value))))
        except ValueError:
            af.error("value", f"{value!r} is not an IP address: ignored (as Istio)", severity="warning")
    return tuple(out)
