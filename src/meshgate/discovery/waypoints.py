"""Waypoints: which Gateways are waypoints, and which Services and ServiceEntries they capture.

Behaviour follows Istio's ambient index (pilot/pkg/serviceregistry/kube/controller/ambient:
waypoints.go and services.go), in meshgate's terms (ARCHITECTURE §7):

- A waypoint is a Gateway of class `meshgate-waypoint` or `istio-waypoint` with a listener of
  protocol HBONE or `istio.io/PROXY`. (Istio takes any Gateway with status addresses; meshgate
  has no status addresses to wait for, so the class and listener decide.) A GatewayClass object
  of either name that belongs to another controller makes its Gateways someone else's.
- `istio.io/waypoint-for` on the Gateway, else on its GatewayClass object, else `service`.
  Istio does not validate the value: it compares it with `service`/`workload`/`all`, so any
  other value (`none`, `Service`, a typo) captures nothing. Here such a value reads as `none`,
  with a warning naming what was written.
- Which namespaces may bind is read from one listener's `allowedRoutes.namespaces`, chosen as
  Istio does: the listener named by the `ambient.istio.io/waypoint-inbound-binding` annotation
  (Gateway, else class; `PROXY/<port>` picks the listener on that port, `PROXY` the first
  `istio.io/PROXY` listener), else the HBONE listener on port 15008, else `Same`. The built-in
  `meshgate-waypoint` class behaves as if it carried `PROXY/15088` (ztunnel hands traffic to a
  meshgate waypoint as PROXY protocol on 15088, as third-party waypoint classes declare it).
- Capture: `istio.io/use-waypoint` on the object; `none` there opts out; a name there is final
  (a missing waypoint is not replaced by the namespace's). Else the Namespace's label, `none`
  opting out. `istio.io/use-waypoint-namespace` is read from the same object as the
  use-waypoint label that was used; the default is the captured object's own namespace. The
  waypoint must exist, allow the object's namespace, and be for services (`service` or `all`),
  checked in that order. A waypoint's own Service (`gateway.istio.io/managed:
  istio.io-mesh-controller`) has no waypoint.
- Only services with a VIP are captured: not headless Services, not Services without a
  clusterIP, not ExternalName Services (Istio's ambient index skips those entirely), not
  ServiceEntries without an IP address. A ServiceEntry without `spec.addresses` has the VIPs
  Istio's allocator wrote in its `status.addresses` (see service_entries.py: not for resolution
  NONE, wildcard hosts or entries that opt out); meshgate allocates none itself.
- Ingress: with the global switch off (`INGRESS_USE_WAYPOINTS`), never: the labels are inert, as
  Istio's ENABLE_INGRESS_WAYPOINT_ROUTING and kgateway's INGRESS_USE_WAYPOINTS make them. With it
  on, `istio.io/ingress-use-waypoint` on the object, else on its Namespace, parsed as Go's
  strconv.ParseBool, an unparsable value counting as false (Istio's ingressUseWaypointFromLabels);
  without either label, yes (meshgate's default; Istio and kgateway want the label).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import CONTROLLER_NAME, WAYPOINT_CLASSES
from ..resources.core import Service
from ..resources.gateway_api import Gateway, LabelSelector, Listener
from ..resources.istio import ServiceEntry
from ..store import Store
from .model import parse_go_bool
from .service_entries import host_vips, uses_allocated_addresses

USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE = "istio.io/use-waypoint-namespace"
WAYPOINT_FOR = "istio.io/waypoint-for"
INGRESS_USE_WAYPOINT = "istio.io/ingress-use-waypoint"
INBOUND_BINDING = "ambient.istio.io/waypoint-inbound-binding"
GATEWAY_MANAGED = "gateway.istio.io/managed"
MESH_CONTROLLER_MANAGED = "istio.io-mesh-controller"

WAYPOINT_PROTOCOLS = ("HBONE", "istio.io/PROXY")
WAYPOINT_FOR_VALUES = ("service", "workload", "all", "none")
HBONE_PORT = 15008
MESHGATE_WAYPOINT_BINDING = "PROXY/15088"

OBJECT_LABEL = "object label"
NAMESPACE_LABEL = "namespace label"
NO_SOURCE = "none"

_KINDS = ("Service", "ServiceEntry")


@dataclass(frozen=True, slots=True)
class AllowedNamespaces:
    """Which namespaces may bind to a waypoint: one listener's allowedRoutes.namespaces.

    listener names the listener it was read from; None when no listener qualified (then `Same`).
    """

    from_: str  # All | Same | Selector
    selector: LabelSelector | None = None
    listener: str | None = None

    def allows(self, waypoint_namespace: str, namespace: str, namespace_labels: dict[str, str]) -> bool:
        """Whether an object in `namespace` (with these Namespace labels) may use the waypoint."""
        if self.from_ == "All":
            return True
        if self.from_ == "Selector":
            # A Selector without a selector selects nothing (metav1.LabelSelectorAsSelector(nil)).
            return self.selector is not None and self.selector.matches(namespace_labels)
        return namespace == waypoint_namespace

    def describe(self) -> str:
        """`from: X` and where it came from, for explanations."""
        what = f"from: {self.from_}"
        if self.from_ == "Selector" and self.selector is not None:
            what += f" {_selector_text(self.selector)}"
        if self.listener is None:
            return f"{what} (no HBONE listener on port {HBONE_PORT} nor bound listener)"
        return f"{what} on listener {self.listener}"


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A waypoint Gateway."""

    namespace: str
    name: str
    waypoint_for: str  # service | workload | all | none
    allowed_namespaces: AllowedNamespaces
    ports: tuple[int, ...]  # its listeners' ports, sorted
    class_name: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def for_services(self) -> bool:
        return self.waypoint_for in ("service", "all")

    @property
    def for_workloads(self) -> bool:
        return self.waypoint_for in ("workload", "all")

    def allows(self, namespace: str, namespace_labels: dict[str, str]) -> bool:
        """Whether objects in `namespace` may bind to this waypoint."""
        return self.allowed_namespaces.allows(self.namespace, namespace, namespace_labels)


@dataclass(frozen=True, slots=True)
class Capture:
    """Whether a Service or ServiceEntry is captured by a waypoint, and why.

    waypoint is (namespace, name) when captured, else None. source says which label decided:
    "object label", "namespace label", or "none" (no label, or the object is not eligible).
    """

    kind: str
    namespace: str
    name: str
    waypoint: tuple[str, str] | None
    source: str
    reason: str

    @property
    def captured(self) -> bool:
        return self.waypoint is not None


# --------------------------------------------------------------------------------------------
# Waypoints
# --------------------------------------------------------------------------------------------


def _selector_text(sel: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in sel.match_labels]
    for key, op, values in sel.match_expressions:
        parts.append(f"{key} {op} ({', '.join(values)})" if values else f"{key} {op}")
    return "{" + ", ".join(parts) + "}"


def _class_problem(store: Store, gw: Gateway) -> str | None:
    """Why a Gateway is not a waypoint of ours, or None when it is one."""
    if gw.class_name not in WAYPOINT_CLASSES:
        return f"class {gw.class_name} is not a waypoint class ({', '.join(WAYPOINT_CLASSES)})"
    gc = store.get("GatewayClass", "", gw.class_name)
    if gc is not None and gc.controller_name != CONTROLLER_NAME:
        return f"GatewayClass {gw.class_name} belongs to controller {gc.controller_name}"
    if not any(ls.protocol in WAYPOINT_PROTOCOLS for ls in gw.listeners):
        return "no listener of protocol HBONE or istio.io/PROXY"
    return None


def _binding(gw: Gateway, class_annotations: dict[str, str]) -> tuple[str | None, str]:
    """The inbound-binding annotation in force (Gateway, else class, else the class default)."""
    if INBOUND_BINDING in gw.meta.annotations:
        return gw.meta.annotations[INBOUND_BINDING], "Gateway"
    if INBOUND_BINDING in class_annotations:
        return class_annotations[INBOUND_BINDING], "GatewayClass"
    if gw.class_name == "meshgate-waypoint":
        return MESHGATE_WAYPOINT_BINDING, "built-in class"
    return None, ""


def _bound_listener(gw: Gateway, binding: str, warnings: list[str], where: str) -> Listener | None:
    """The listener an inbound binding (`PROTOCOL` or `PROTOCOL/PORT`) names, as Istio finds it."""
    parts = binding.split("/")
    if len(parts) > 2:
        warnings.append(f"{INBOUND_BINDING} {binding!r} on the {where} is not <protocol> or <protocol>/<port>: ignored")
        return None
    protocol = parts[0]
    if protocol not in ("NONE", "PROXY"):
        warnings.append(f"{INBOUND_BINDING} {binding!r} on the {where}: protocol must be NONE or PROXY; ignored")
        return None
    port = 0
    if len(parts) == 2:
        if parts[1].isascii() and parts[1].isdigit() and int(parts[1]) < 2**32:
            port = int(parts[1])
        else:
            # Istio warns and goes on with port 0.
            warnings.append(f"{INBOUND_BINDING} {binding!r} on the {where}: invalid port {parts[1]!r}")
    for ls in gw.listeners:
        if port != 0:
            if ls.port == port:
                return ls
        elif protocol == "PROXY" and ls.protocol == "istio.io/PROXY":
            return ls
    return None


def _allowed(ls: Listener | None) -> AllowedNamespaces:
    if ls is None:
        return AllowedNamespaces("Same")
    return AllowedNamespaces(ls.namespaces_from, ls.namespace_selector, ls.name)


def _waypoint(store: Store, gw: Gateway) -> Waypoint:
    gc = store.get("GatewayClass", "", gw.class_name)
    class_labels: dict[str, str] = gc.meta.labels if gc is not None else {}
    class_annotations: dict[str, str] = gc.meta.annotations if gc is not None else {}
    warnings: list[str] = []

    waypoint_for, where = "service", ""
    if WAYPOINT_FOR in class_labels:
        waypoint_for, where = class_labels[WAYPOINT_FOR], "GatewayClass"
    if WAYPOINT_FOR in gw.meta.labels:
        waypoint_for, where = gw.meta.labels[WAYPOINT_FOR], "Gateway"
    if waypoint_for not in WAYPOINT_FOR_VALUES:
        warnings.append(f"{WAYPOINT_FOR} {waypoint_for!r} on the {where} is not one of "
                        f"{', '.join(WAYPOINT_FOR_VALUES)}: the waypoint captures nothing (as Istio)")
        waypoint_for = "none"

    binding, binding_where = _binding(gw, class_annotations)
    listener = _bound_listener(gw, binding, warnings, binding_where) if binding is not None else None
    if listener is None:
        listener = next((ls for ls in gw.listeners if ls.protocol == "HBONE" and ls.port == HBONE_PORT), None)

    return Waypoint(
        namespace=gw.meta.namespace,
        name=gw.meta.name,
        waypoint_for=waypoint_for,
        allowed_namespaces=_allowed(listener),
        ports=tuple(sorted({ls.port for ls in gw.listeners})),
        class_name=gw.class_name,
        warnings=tuple(warnings),
    )


def waypoints(store: Store) -> dict[tuple[str, str], Waypoint]:
    """Every waypoint Gateway, by (namespace, name)."""
    return {
        (gw.meta.namespace, gw.meta.name): _waypoint(store, gw)
        for gw in store.list("Gateway")
        if _class_problem(store, gw) is None
    }


# --------------------------------------------------------------------------------------------
# Capture
# --------------------------------------------------------------------------------------------


def _vip_problem(obj: Service | ServiceEntry) -> str | None:
    """Why a Service or ServiceEntry has no VIP to capture, or None (VIPs as the service model's)."""
    if isinstance(obj, Service):
        if obj.headless:
            return "headless Service (no VIP): not captured"
        if not any(ip for ip in obj.cluster_ips):
            return "Service without a clusterIP (no VIP): not captured"
        return None
    if any(host_vips(obj, host) for host in obj.hosts):
        return None
    if obj.addresses:
        return "ServiceEntry without an IP address (only CIDRs, no VIP): not captured"
    if not uses_allocated_addresses(obj):
        return ("ServiceEntry without an IP address (no VIP; no allocated address for resolution NONE or with "
                "networking.istio.io/enable-autoallocate-ip: false): not captured")
    return ("ServiceEntry without an IP address (no VIP: no spec.addresses and none allocated in "
            "status.addresses): not captured")


def _label_text(labels: dict[str, str]) -> str:
    text = f"use-waypoint={labels[USE_WAYPOINT]}"
    if USE_WAYPOINT_NAMESPACE in labels:
        text += f", use-waypoint-namespace={labels[USE_WAYPOINT_NAMESPACE]}"
    return text


def _not_found(store: Store, ns: str, name: str) -> str:
    ref = f"waypoint {ns}/{name} not found"
    if not name:
        return f"{ref}: {USE_WAYPOINT} is empty"
    gw = store.get("Gateway", ns, name)
    if gw is None:
        return ref
    return f"{ref}: Gateway {ns}/{name} is not a waypoint ({_class_problem(store, gw)})"


def capture(store: Store, kind: str, namespace: str, name: str,
            waypoint_index: dict[tuple[str, str], Waypoint] | None = None) -> Capture:
    """Whether one Service or ServiceEntry is captured by a waypoint, and why."""
    if waypoint_index is None:
        waypoint_index = waypoints(store)

    def result(waypoint: tuple[str, str] | None, source: str, reason: str) -> Capture:
        return Capture(kind, namespace, name, waypoint, source, reason)

    if kind not in _KINDS:
        return result(None, NO_SOURCE, f"{kind} is not a Service or ServiceEntry")
    obj = store.get(kind, namespace, name)
    if obj is None:
        return result(None, NO_SOURCE, f"{kind} {namespace}/{name} not found")
    labels: dict[str, str] = obj.meta.labels
    if kind == "Service" and labels.get(GATEWAY_MANAGED) == MESH_CONTROLLER_MANAGED:
        return result(None, NO_SOURCE, "a waypoint's own Service: not captured")
    if kind == "Service" and obj.type == "ExternalName":
        return result(None, NO_SOURCE, "ExternalName Service: not captured (not part of the ambient mesh)")

    # The object's label decides when present, even when what it names cannot be used.
    ns_labels = store.namespace_labels(namespace)
    if USE_WAYPOINT in labels:
        source, level_labels = OBJECT_LABEL, labels
        told = f"{_label_text(labels)} on the {kind}"
        if labels[USE_WAYPOINT] == "none":
            return result(None, source, f"opted out: use-waypoint=none on the {kind}")
    elif USE_WAYPOINT in ns_labels:
        source, level_labels = NAMESPACE_LABEL, ns_labels
        told = f"namespace {namespace} has {_label_text(ns_labels)}"
        if ns_labels[USE_WAYPOINT] == "none":
            return result(None, source, f"opted out: namespace {namespace} has use-waypoint=none")
    else:
        return result(None, NO_SOURCE, "no use-waypoint label")

    vip_problem = _vip_problem(obj)
    if vip_problem is not None:
        return result(None, source, f"{vip_problem} ({told})")

    wp_ns = level_labels.get(USE_WAYPOINT_NAMESPACE, namespace)
    wp_name = level_labels[USE_WAYPOINT]
    wp = waypoint_index.get((wp_ns, wp_name))
    if wp is None:
        return result(None, source, f"{_not_found(store, wp_ns, wp_name)} ({told})")
    if not wp.allows(namespace, ns_labels):
        return result(None, source, f"waypoint {wp_ns}/{wp_name} does not allow namespace {namespace} "
                                    f"({wp.allowed_namespaces.describe()}; {told})")
    if not wp.for_services:
        detail = f"waypoint-for: {wp.waypoint_for}"
        if wp.warnings:
            detail += "; " + "; ".join(wp.warnings)
        return result(None, source, f"waypoint {wp_ns}/{wp_name} does not capture services ({detail}; {told})")
    return result(wp.key, source, told)


def captures(store: Store, waypoint_index: dict[tuple[str, str], Waypoint] | None = None) -> list[Capture]:
    """Every Service and ServiceEntry, ordered by kind, namespace and name.

    waypoint_index is `waypoints(store)` when the caller has it already.
    """
    index = waypoints(store) if waypoint_index is None else waypoint_index
    return [
        capture(store, kind, obj.meta.namespace, obj.meta.name, index)
        for kind in _KINDS
        for obj in store.list(kind)
    ]


# --------------------------------------------------------------------------------------------
# Ingress to waypoint
# --------------------------------------------------------------------------------------------


def ingress_uses_waypoint(store: Store, kind: str, namespace: str, name: str,
                          global_default: bool) -> tuple[bool, str]:
    """Whether an ingress gateway sends to this (captured) service's VIP, and why.

    With the global switch off, never: the labels are inert. With it on, the label on the
    Service or ServiceEntry wins over its Namespace's, whatever its value; without either, yes.
    Capture itself is not checked here.
    """
    if not global_default:
        return False, "global switch off (INGRESS_USE_WAYPOINTS): ingress-use-waypoint labels are inert"
    obj = store.get(kind, namespace, name)
    labels: dict[str, str] = obj.meta.labels if obj is not None else {}
    ns_labels = store.namespace_labels(namespace)
    if INGRESS_USE_WAYPOINT in labels:
        value, where = labels[INGRESS_USE_WAYPOINT], f"on the {kind}"
    elif INGRESS_USE_WAYPOINT in ns_labels:
        value, where = ns_labels[INGRESS_USE_WAYPOINT], f"on namespace {namespace}"
    else:
        return True, "no ingress-use-waypoint label: global switch on"
    parsed = parse_go_bool(value)
    if parsed is None:
        return False, f"ingress-use-waypoint={value} {where} is not a boolean: treated as false"
    return parsed, f"ingress-use-waypoint={value} {where}"


def explain_rows(store: Store) -> list[dict]:
    """One row per Service and ServiceEntry for `meshgate explain waypoints`.

    ingress_use_waypoint is computed with the global switch on, and is false for a service no
    waypoint captures (ingress goes to its endpoints then).
    """
    rows: list[dict] = []
    for c in captures(store):
        if c.waypoint is not None:
            ingress, ingress_reason = ingress_uses_waypoint(store, c.kind, c.namespace, c.name, True)
        else:
            ingress, ingress_reason = False, "not captured"
        rows.append({
            "kind": c.kind,
            "namespace": c.namespace,
            "name": c.name,
            "waypoint": f"{c.waypoint[0]}/{c.waypoint[1]}" if c.waypoint is not None else "",
            "source": c.source,
            "reason": c.reason,
            "ingress_use_waypoint": ingress,
            "ingress_reason": ingress_reason,
        })
    return rows
