"""WorkloadEntry (and ServiceEntry inline endpoints): parsing and Istio's validation."""

from __future__ import annotations

import dataclasses

from ..fields import Fields
from ..meta import Meta, Source
from .formats import fqdn, is_ip, port_name, unix_path
from .model import UNIX_PREFIX, WorkloadEntry
from .readers import _labels, _uint32


def _parse_workload(
    f: Fields,
    meta: Meta | None,
    source: Source | None,
    *,
    address_kind: str | None,
    service_ports: list[str] | None,
) -> WorkloadEntry:
    """validateWorkloadEntry and the ServiceEntry endpoint checks.

    address_kind: "any" (a WorkloadEntry: IP, FQDN or unix://), "ip" (STATIC endpoints: IP or
    unix://), "dns" (DNS endpoints: IP or FQDN), None (not checked). service_ports: the port
    names of the ServiceEntry, which endpoint `ports` keys must come from (None: no ServiceEntry).
    """
    address = f.str("address", max_len=256)
    network = f.str("network")
    locality = f.str("locality")
    weight = _uint32(f, "weight")
    service_account = f.str("serviceAccount", max_len=253)
    labels = _labels(f, "labels")

    unix = False
    if address_kind is not None and not address and (address is not None or not f.has("address")):
        if network and address_kind != "dns":
            f.error("address", f"address is unset with network {network!r}", severity="warning")
        else:
            f.error("address", "required field is missing: address is required (unless network is set)")
    elif address_kind is not None and address is not None:
        if address.startswith(UNIX_PREFIX) and address_kind in ("any", "ip"):
            unix = True
            reason = unix_path(address[len(UNIX_PREFIX):])
            if reason:
                f.error("address", f"invalid value {address!r}: {reason}")
        elif not is_ip(address):
            if address_kind == "ip":
                f.error("address", f"invalid value {address!r}: endpoint address must be an IP address "
                        "(or unix://) when resolution is STATIC")
            elif fqdn(address):
                f.error("address", f"invalid value {address!r}: endpoint address is not a valid FQDN or an IP address")

    ports: dict[str, int] = {}
    pm = f.map("ports")
    if pm is not None:
        if len(pm.data) > 128:
            f.error("ports", f"must have at most 128 ports, got {len(pm.data)}")
        else:
            for name in pm.data:
                if not isinstance(name, str):
                    pm.ctx.error(pm.line_of(name), pm.sub(str(name)), "keys must be strings")
                    continue
                number = pm.int(name, required=True, min=1, max=65535)
                reason = port_name(name)
                if reason:
                    pm.error(name, f"invalid value {name!r}: {reason}")
                    continue
                if service_ports is not None and name not in service_ports:
                    known = ", ".join(service_ports) or "none"
                    pm.error(name, f"endpoint port {name!r} is not defined by the service entry (its ports: {known})")
                    continue
                if number is not None:
                    ports[name] = number
        if unix and pm.data:
            f.error("ports", f"unix endpoint {address} must not include ports")
    if unix and service_ports is not None and len(service_ports) != 1:
        f.error("address", f"exactly 1 service port required for unix endpoints, the service entry has {len(service_ports)}")
    return WorkloadEntry(meta, source, address, ports, labels, network, locality, weight, service_account, f.line)


def parse_workload_entry(f: Fields, meta: Meta, source: Source) -> WorkloadEntry:
    """WorkloadEntry.spec (ValidateWorkloadEntry), and the Healthy condition of its status."""
    spec = f.map("spec", required=True)
    if spec is None:
        return WorkloadEntry(meta, source, None, {}, {}, None, None, None, None, f.line)
    we = _parse_workload(spec, meta, source, address_kind="any", service_ports=None)
    return dataclasses.replace(we, healthy_condition=_healthy_condition(f))


def _healthy_condition(f: Fields) -> str | None:
    """The status of the `Healthy` condition in status.conditions (Istio's IstioStatus), or None."""
    status = f.map("status")
    if status is None:
        return None
    for cf in status.maps("conditions"):
        if cf.str("type") == "Healthy":
            return cf.str("status") or ""
    return None
