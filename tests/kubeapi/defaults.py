"""What the server fills in on create, per kind: the few defaults and allocations meshgate reads
(a Service's clusterIP and port defaults, a Namespace's phase, a CRD's accepted names and
Established condition). Everything else is stored as sent (no schema defaulting or pruning)."""

from __future__ import annotations

import ipaddress
from typing import Any

from .resources import ResourceType


def _service(obj: dict[str, Any], taken: set[str], pool: ipaddress.IPv4Network) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if spec["type"] == "ExternalName":
        return
    if not spec.get("clusterIP"):
        # The first free address of the pool (loopback by default: nothing here may point at a
        # real network, see Emulator's service_cidr).
        address = next((str(a) for a in pool.hosts() if str(a) not in taken), None)
        if address is None:
            return
        spec["clusterIP"] = address
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if spec["clusterIP"] != "None":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")


def _deployment(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})


def crd_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """The status the apiextensions server gives an accepted CRD (names accepted, established)."""
    spec = crd.get("spec") or {}
    conditions = [
        {"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now}
        for kind, reason, message in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                      ("Established", "InitialNamesAccepted", "the initial names have been accepted"))
    ]
    stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    return {"acceptedNames": spec.get("names") or {}, "conditions": conditions, "storedVersions": stored}


def apply_defaults(rtype: ResourceType, obj: dict[str, Any], cluster_ips: set[str],
                   service_cidr: ipaddress.IPv4Network, now: str) -> None:
    """Fill in the server-side defaults of a new object of `rtype` (in place)."""
    if rtype.key == ("", "services"):
        _service(obj, cluster_ips, service_cidr)
    elif rtype.key == ("apps", "deployments"):
        _deployment(obj)
    elif rtype.key == ("", "namespaces"):
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    elif rtype.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
        obj["status"] = crd_status(obj, now)
