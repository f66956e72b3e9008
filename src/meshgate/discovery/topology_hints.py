"""Topology hints on EndpointSlices, as Kubernetes' EndpointSlice controller writes them (ARCHITECTURE §7).

The controller side of topology-aware routing: which endpoints are hinted for which zone (and
node), computed the way the EndpointSlice controller does (k8s.io/endpointslice: the
``topologycache`` package for the topology annotation, ``trafficdist`` for
``spec.trafficDistribution``, and the reconciler that chooses between them). Proxies then use
the hints (kube-proxy's CategorizeEndpoints, elsewhere in meshgate).

Which logic applies (:func:`hints_mode`):

* ``auto``: the annotation ``service.kubernetes.io/topology-mode`` is ``Auto``/``auto``; the
  deprecated ``service.kubernetes.io/topology-aware-hints`` decides instead whenever it is
  present, whatever the newer one says. Any other value turns hints off, as in Kubernetes.
* ``prefer-close`` / ``prefer-same-node``: ``spec.trafficDistribution`` is PreferClose or
  PreferSameZone / PreferSameNode, and the annotation is not on.
* ``none``: hints are removed.

``auto`` (the topologycache algorithm): each zone's share of the allocatable CPU of Ready Nodes
that are not control-plane nodes (:func:`zone_cpu_ratios`) gives it a desired number of the ready
endpoints, and a minimum that keeps every endpoint's overload under 20%; hints that are still
valid stay as they are; the other slices first hint every ready endpoint for its own zone, then
zones with more than their share give endpoints to zones with less. When that cannot be done
(too little Node information, fewer endpoints than zones, minimums that do not fit, an endpoint
without a zone) every hint is removed, with a ``TopologyAwareHintsDisabled`` event that says why.

``prefer-close`` / ``prefer-same-node``: every ready endpoint is hinted for its own zone (and its
own node); an endpoint without a zone (or node) just gets no hint for it.

Only slices labelled ``endpointslice.kubernetes.io/managed-by`` with the Kubernetes controller's
name or meshgate's are touched, and only for Services the controller manages (with a selector,
not ExternalName). The slices given are taken as the controller finds them on a sync where no
endpoint changed: valid ones are kept, the others rewritten. A rewritten slice's endpoints are
what the controller builds from Pods, which never carry hints, so a rewritten slice's not-ready
endpoints carry none.

Ties that Kubernetes leaves to Go's map order (which zone gives or receives first) are broken
by zone name, so the result is deterministic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..resources.core import Endpoint, EndpointSlice, Node, Service
from .model import ZONE_LABEL
from .pod_slices import MANAGED_BY_LABEL, MESHGATE_CONTROLLER

K8S_CONTROLLER = "endpointslice-controller.k8s.io"
MANAGING_CONTROLLERS = (K8S_CONTROLLER, MESHGATE_CONTROLLER)

TOPOLOGY_MODE_ANNOTATION = "service.kubernetes.io/topology-mode"
DEPRECATED_HINTS_ANNOTATION = "service.kubernetes.io/topology-aware-hints"
EXCLUDED_NODE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")

# The most any endpoint may be overloaded by a zone's allocation (topologycache).
OVERLOAD_THRESHOLD = 0.2

MODE_AUTO = "auto"
MODE_PREFER_CLOSE = "prefer-close"
MODE_PREFER_SAME_NODE = "prefer-same-node"
MODE_NONE = "none"

# Annotation values Kubernetes turns hints on with, and the ones documented to turn them off.
ENABLING_VALUES = ("Auto", "auto")
DISABLING_VALUES = ("Disabled", "disabled", "")

# Event reasons and messages (k8s.io/endpointslice/topologycache/event.go). Events append
# ", addressType: <type>" to the message, as the controller's FormatWithAddressType does.
EVENT_NORMAL = "Normal"
EVENT_WARNING = "Warning"
HINTS_ENABLED_REASON = "TopologyAwareHintsEnabled"
HINTS_DISABLED_REASON = "TopologyAwareHintsDisabled"
NO_ZONE_SPECIFIED = "One or more endpoints do not have a zone specified"
NO_ALLOCATED_HINTS_FOR_ZONES = "No hints allocated for zones"
TOPOLOGY_AWARE_HINTS_ENABLED = "Topology Aware Hints has been enabled"
TOPOLOGY_AWARE_HINTS_DISABLED = "Topology Aware Hints has been disabled"
INSUFFICIENT_NODE_INFO = "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes"
NODES_READY_IN_ONE_ZONE_ONLY = "Nodes only ready in one zone"
INSUFFICIENT_NUMBER_OF_ENDPOINTS = "Insufficient number of endpoints"
MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD = (
    "Unable to allocate minimum required endpoints to each zone without exceeding overload threshold")

_ADDRESS_TYPE_ORDER = {"IPv4": 0, "IPv6": 1}


@dataclass(frozen=True)
class HintEvent:
    """An event the EndpointSlice controller records on a Service about its topology hints."""

    type: str  # "Normal" | "Warning"
    reason: str  # "TopologyAwareHintsEnabled" | "TopologyAwareHintsDisabled"
    message: str
    service: str  # "ns/name"


# --- which logic applies


def hints_mode(service: Service) -> tuple[str, str | None]:
    """The hint logic for a Service ("auto", "prefer-close", "prefer-same-node" or "none").

    The second value is a warning for the user, or None: an annotation value Kubernetes does not
    know (hints stay off, as there), the deprecated annotation overriding a different newer one,
    or a trafficDistribution ignored because the annotation is on.
    """
    annotations = service.meta.annotations
    warnings: list[str] = []
    key: str | None = None
    if DEPRECATED_HINTS_ANNOTATION in annotations:
        key = DEPRECATED_HINTS_ANNOTATION
        newer = annotations.get(TOPOLOGY_MODE_ANNOTATION)
        if newer is not None and newer != annotations[key]:
            warnings.append(f'annotation {key}: "{annotations[key]}" takes precedence over '
                            f'{TOPOLOGY_MODE_ANNOTATION}: "{newer}", as in Kubernetes')
    elif TOPOLOGY_MODE_ANNOTATION in annotations:
        key = TOPOLOGY_MODE_ANNOTATION
    value = annotations[key] if key is not None else None
    enabled = value in ENABLING_VALUES
    if key is not None and not enabled and value not in DISABLING_VALUES:
        warnings.append(f'annotation {key}: unsupported value "{value}": Kubernetes turns topology hints on only '
                        f'with "Auto" (or "auto") and treats any other value as disabled')
    distribution = service.traffic_distribution
    if enabled:
        if distribution is not None:
            warnings.append(f'spec.trafficDistribution "{distribution}" is ignored: the {key} annotation '
                            f'takes precedence, as in Kubernetes')
        mode = MODE_AUTO
    elif distribution in ("PreferClose", "PreferSameZone"):
        mode = MODE_PREFER_CLOSE
    elif distribution == "PreferSameNode":
        mode = MODE_PREFER_SAME_NODE
    else:
        mode = MODE_NONE
    return mode, "; ".join(warnings) if warnings else None


# --- zone CPU ratios and allocations


def zone_cpu_ratios(nodes: Iterable[Node]) -> tuple[dict[str, float] | None, str | None]:
    """Each zone's share of the allocatable CPU of Ready, non-control-plane Nodes.

    None and the message the controller's event carries when the Nodes do not allow hints: a
    Ready, non-control-plane Node without a zone label or allocatable CPU, no CPU at all, or
    fewer than two zones. Kubernetes reports all of these as insufficient Node information (its
    SetNodes drops the ratios, so its "Nodes only ready in one zone" check never sees one zone).
    """
    cpu_by_zone: dict[str, int] = {}
    total = 0
    for node in nodes:
        labels = node.meta.labels
        if any(label in labels for label in EXCLUDED_NODE_LABELS):
            continue
        if not node.ready:
            continue
        zone = labels.get(ZONE_LABEL)
        cpu = node.allocatable_cpu_milli
        if not zone or not cpu:
            return None, INSUFFICIENT_NODE_INFO
        total += cpu
        cpu_by_zone[zone] = cpu_by_zone.get(zone, 0) + cpu
    if total == 0 or len(cpu_by_zone) < 2:
        return None, INSUFFICIENT_NODE_INFO
    return {zone: float(cpu) / float(total) for zone, cpu in sorted(cpu_by_zone.items())}, None


@dataclass(frozen=True)
class _Allocation:
    """How many endpoints a zone should be hinted for: at least `minimum`, at most `maximum`."""

    minimum: int = 0
    maximum: int = 0
    desired: float = 0.0


def _allocations(ratios: Mapping[str, float] | None, endpoints: int) -> tuple[dict[str, _Allocation] | None, str | None]:
    """Per-zone allocations of `endpoints` ready endpoints, or None and why they are impossible."""
    if ratios is None:
        return None, INSUFFICIENT_NODE_INFO
    zones = len(ratios)
    if zones < 2:
        return None, NODES_READY_IN_ONE_ZONE_ONLY
    if zones > endpoints:
        return None, f"{INSUFFICIENT_NUMBER_OF_ENDPOINTS} ({endpoints} endpoints, {zones} zones)"
    remaining = endpoints
    min_total = 0
    partial: dict[str, tuple[int, float]] = {}
    for zone in sorted(ratios):
        desired = ratios[zone] * float(endpoints)
        minimum = math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD)))
        partial[zone] = (minimum, max(desired, float(minimum)))
        min_total += minimum
        remaining -= minimum
        if remaining < 0:
            return None, f"{MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD} ({endpoints} endpoints, {zones} zones)"
    return {zone: _Allocation(minimum, minimum + endpoints - min_total, desired)
            for zone, (minimum, desired) in partial.items()}, None


def _ready(endpoint: Endpoint) -> bool:
    """Ready as the controller counts it: the condition set and true (unset does not count)."""
    return endpoint.ready is True


def _ready_endpoints(slices: Iterable[EndpointSlice]) -> int:
    return sum(1 for s in slices for e in s.endpoints if _ready(e))


def _hints_by_zone(slice_: EndpointSlice, allocated: Mapping[str, int],
                   allocations: Mapping[str, _Allocation]) -> dict[str, int] | None:
    """The zone hints of a slice's ready endpoints, counted; None when they are no longer valid.

    Invalid: a ready endpoint without zone hints, a hint for a zone with no allocation, or more
    hints for a zone than its maximum allows on top of those `allocated` already.
    """
    counts: dict[str, int] = {}
    for endpoint in slice_.endpoints:
        if not _ready(endpoint):
            continue
        if not endpoint.hints_zones:
            return None
        for zone in endpoint.hints_zones:
            if zone not in allocations:
                return None
            counts[zone] = counts.get(zone, 0) + 1
    for zone, count in counts.items():
        if count + allocated.get(zone, 0) > allocations[zone].maximum:
            return None
    return counts


def _most(amounts: Mapping[str, float]) -> tuple[str, float]:
    """The zone with the largest positive amount ("" and 0 when none); ties go to the first name."""
    best, most = "", 0.0
    for zone in sorted(amounts):
        if amounts[zone] > most:
            best, most = zone, amounts[zone]
    return best, most


def _giving_and_receiving(allocations: Mapping[str, _Allocation],
                          allocated: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """How many endpoints each zone should give away and each should receive.

    From the exact surplus or shortfall of each zone against its desired share, whole endpoints
    move from the zone with the most surplus to the zone with the biggest shortfall while both
    have at least half an endpoint to move and one of them at least a whole one.
    """
    give_exact: dict[str, float] = {}
    receive_exact: dict[str, float] = {}
    for zone in sorted(allocations):
        have = float(allocated.get(zone, 0))
        target = allocations[zone].desired
        if have > target:
            give_exact[zone] = have - target
        elif have < target:
            receive_exact[zone] = target - have
    giving: dict[str, int] = {}
    receiving: dict[str, int] = {}
    while True:
        giver, to_give = _most(give_exact)
        receiver, to_receive = _most(receive_exact)
        if (not giver or not receiver or (to_give < 1.0 and to_receive < 1.0)
                or to_give < 0.5 or to_receive < 0.5):
            break
        giving[giver] = giving.get(giver, 0) + 1
        give_exact[giver] -= 1
        receiving[receiver] = receiving.get(receiver, 0) + 1
        receive_exact[receiver] -= 1
    return giving, receiving


class _Rewrite:
    """A slice the controller rewrites: its endpoints' hints, changeable until `build`."""

    def __init__(self, slice_: EndpointSlice) -> None:
        self.slice = slice_
        # Rewritten endpoints come from Pods without hints; ready ones get theirs below.
        self.zones: list[tuple[str, ...] | None] = [
            e.hints_zones if _ready(e) else None for e in slice_.endpoints]
        self.nodes: list[tuple[str, ...] | None] = [
            e.hints_nodes if _ready(e) else None for e in slice_.endpoints]

    def set(self, index: int, zones: tuple[str, ...] | None, nodes: tuple[str, ...] | None = None) -> None:
        self.zones[index] = zones
        self.nodes[index] = nodes

    def build(self) -> EndpointSlice:
        endpoints = tuple(
            e if (e.hints_zones, e.hints_nodes) == (z, n) else dataclasses.replace(e, hints_zones=z, hints_nodes=n)
            for e, z, n in zip(self.slice.endpoints, self.zones, self.nodes))
        if endpoints == self.slice.endpoints:
            return self.slice
        return dataclasses.replace(self.slice, endpoints=endpoints)


def _redistribute(rewrites: Sequence[_Rewrite], giving: dict[str, int], receiving: dict[str, int]) -> dict[str, int]:
    """Re-hint ready endpoints of giving zones for receiving zones; the change in count per zone.

    `giving` and `receiving` are used up as endpoints move.
    """
    moved: dict[str, int] = {}
    for rewrite in rewrites:
        for index, endpoint in enumerate(rewrite.slice.endpoints):
            if not _ready(endpoint):
                continue
            if not giving or not receiving:
                return moved
            zone = endpoint.zone
            if not zone or giving.get(zone, 0) <= 0:
                continue
            for receiver in sorted(receiving):
                if receiving[receiver] > 0:
                    rewrite.set(index, (receiver,))
                    for counts, name in ((giving, zone), (receiving, receiver)):
                        counts[name] -= 1
                        if counts[name] == 0:
                            del counts[name]
                    moved[receiver] = moved.get(receiver, 0) + 1
                    moved[zone] = moved.get(zone, 0) - 1
                    break
    return moved


def _remove_hints(slices: Sequence[EndpointSlice]) -> list[EndpointSlice]:
    """Every slice without any hint (slices that had none are returned as they are)."""
    out = []
    for s in slices:
        if any(e.hints_zones is not None or e.hints_nodes is not None for e in s.endpoints):
            s = dataclasses.replace(s, endpoints=tuple(
                dataclasses.replace(e, hints_zones=None, hints_nodes=None) for e in s.endpoints))
        out.append(s)
    return out


def _event(type_: str, reason: str, message: str, address_type: str, service: str) -> HintEvent:
    return HintEvent(type_, reason, f"{message}, addressType: {address_type}", service)


def _auto_hints(key: str, address_type: str, slices: Sequence[EndpointSlice],
                ratios: dict[str, float] | None, populated: bool) -> tuple[list[EndpointSlice], list[HintEvent], bool]:
    """topologycache's AddHints for one Service and address type; also whether hints stand now."""

    def disabled(message: str) -> tuple[list[EndpointSlice], list[HintEvent], bool]:
        event = _event(EVENT_WARNING, HINTS_DISABLED_REASON, message, address_type, key)
        return _remove_hints(slices), [event], False

    allocations, problem = _allocations(ratios, _ready_endpoints(slices))
    if allocations is None:
        return disabled(problem or INSUFFICIENT_NODE_INFO)

    # Slices whose hints are still valid stay as they are and count for their zones.
    allocated: dict[str, int] = {}
    rewrites: dict[int, _Rewrite] = {}
    for index, s in enumerate(slices):
        counts = _hints_by_zone(s, allocated, allocations)
        if counts is None:
            rewrites[index] = _Rewrite(s)
        else:
            for zone, count in counts.items():
                allocated[zone] = allocated.get(zone, 0) + count

    # Every ready endpoint of the other slices is hinted for its own zone...
    for rewrite in rewrites.values():
        for index, endpoint in enumerate(rewrite.slice.endpoints):
            if not _ready(endpoint):
                continue
            if not endpoint.zone:
                return disabled(NO_ZONE_SPECIFIED)
            allocated[endpoint.zone] = allocated.get(endpoint.zone, 0) + 1
            rewrite.set(index, (endpoint.zone,))

    # ...then zones over their share give endpoints to zones under it.
    giving, receiving = _giving_and_receiving(allocations, allocated)
    for zone, change in _redistribute(list(rewrites.values()), giving, receiving).items():
        allocated[zone] = allocated.get(zone, 0) + change
    if not allocated:
        return disabled(NO_ALLOCATED_HINTS_FOR_ZONES)

    events = [] if populated else [
        _event(EVENT_NORMAL, HINTS_ENABLED_REASON, TOPOLOGY_AWARE_HINTS_ENABLED, address_type, key)]
    return [rewrites[i].build() if i in rewrites else s for i, s in enumerate(slices)], events, True


def _close_hints_wrong(endpoint: Endpoint, same_node: bool) -> bool:
    """True when a ready endpoint's hints are not exactly its own zone (and node) hints."""
    if endpoint.zone is not None:
        if endpoint.hints_zones is None or endpoint.hints_zones != (endpoint.zone,):
            return True
    elif endpoint.hints_zones:
        return True
    if same_node and endpoint.node_name is not None:
        if endpoint.hints_nodes is None or endpoint.hints_nodes != (endpoint.node_name,):
            return True
    elif endpoint.hints_nodes:
        return True
    return False


def _close_hints(slices: Sequence[EndpointSlice], same_node: bool) -> list[EndpointSlice]:
    """trafficdist's preferClose heuristic: own-zone (and own-node) hints on ready endpoints."""
    out = []
    for s in slices:
        if any(_ready(e) and _close_hints_wrong(e, same_node) for e in s.endpoints):
            rewrite = _Rewrite(s)
            for index, e in enumerate(s.endpoints):
                if _ready(e):
                    zones = (e.zone,) if e.zone is not None else None
                    nodes = (e.node_name,) if same_node and e.node_name is not None else None
                    rewrite.set(index, zones, nodes)
            s = rewrite.build()
        out.append(s)
    return out


def _managed(slice_: EndpointSlice) -> bool:
    return slice_.meta.labels.get(MANAGED_BY_LABEL) in MANAGING_CONTROLLERS


def compute_hints(service: Service, slices: list[EndpointSlice], nodes: Iterable[Node], *,
                  previously_enabled: bool = False,
                  zone_ratios: Callable[[], dict[str, float] | None] | None = None,
                  ) -> tuple[list[EndpointSlice], list[HintEvent]]:
    """The Service's slices as the controller writes them on a sync, and the events it records.

    Returns every slice given, in the same order: those the controller manages with their hints
    computed, the others untouched. Hints are computed per address type (IPv4 first), over all
    the managed slices of that type. Services the controller does not manage (no selector, or
    ExternalName) get nothing.

    `previously_enabled`: the controller already populated annotation hints for this Service on
    an earlier sync. By default it has not (a controller that just started), so hints that
    stand get a TopologyAwareHintsEnabled event, and turning the annotation off gets no
    "has been disabled" event.

    `zone_ratios`: gives the zone CPU ratios of `nodes` (as ``zone_cpu_ratios(nodes)[0]``), for
    a caller that shares them between Services; called only when they are needed. By default
    they are computed from `nodes`.
    """
    out = list(slices)
    if service.type == "ExternalName" or not service.selector:
        return out, []
    key = f"{service.meta.namespace}/{service.meta.name}"
    mode, _ = hints_mode(service)
    by_type: dict[str, list[int]] = {}
    for index, s in enumerate(slices):
        if _managed(s):
            by_type.setdefault(s.address_type, []).append(index)
    ratios: dict[str, float] | None = None
    if mode == MODE_AUTO and by_type:
        ratios = zone_ratios() if zone_ratios is not None else zone_cpu_ratios(nodes)[0]
    populated = previously_enabled
    events: list[HintEvent] = []
    for address_type in sorted(by_type, key=lambda t: (_ADDRESS_TYPE_ORDER.get(t, 2), t)):
        indexes = by_type[address_type]
        group = [slices[i] for i in indexes]
        if mode == MODE_AUTO:
            group, group_events, populated = _auto_hints(key, address_type, group, ratios, populated)
            events.extend(group_events)
        else:
            if populated:
                events.append(_event(EVENT_WARNING, HINTS_DISABLED_REASON, TOPOLOGY_AWARE_HINTS_DISABLED,
                                     address_type, key))
                populated = False
            if mode == MODE_NONE:
                group = _remove_hints(group)
            else:
                group = _close_hints(group, same_node=mode == MODE_PREFER_SAME_NODE)
        for index, s in zip(indexes, group):
            out[index] = s
    return out, events


# --- output


def _endpoint_json(e: Endpoint) -> dict:
    d: dict = {"addresses": list(e.addresses)}
    conditions = {}
    for name, value in (("ready", e.ready), ("serving", e.serving), ("terminating", e.terminating)):
        if value is not None:
            conditions[name] = value
    d["conditions"] = conditions
    if e.node_name is not None:
        d["nodeName"] = e.node_name
    if e.zone is not None:
        d["zone"] = e.zone
    if e.hints_zones is not None or e.hints_nodes is not None:
        hints: dict = {}
        if e.hints_zones:
            hints["forZones"] = [{"name": z} for z in e.hints_zones]
        if e.hints_nodes:
            hints["forNodes"] = [{"name": n} for n in e.hints_nodes]
        d["hints"] = hints
    if e.target_ref is not None:
        d["targetRef"] = {"kind": e.target_ref.kind, "namespace": e.target_ref.namespace, "name": e.target_ref.name}
    return d


def hinted_slices_json(slices: Iterable[EndpointSlice]) -> list[dict]:
    """EndpointSlices as Kubernetes objects (discovery.k8s.io/v1), for `meshgate hints`."""
    out = []
    for s in slices:
        d: dict = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": s.meta.name, "namespace": s.meta.namespace, "labels": dict(s.meta.labels)},
            "addressType": s.address_type,
        }
        if s.ports is not None:
            ports = []
            for p in s.ports:
                port: dict = {"name": p.name}
                if p.port is not None:
                    port["port"] = p.port
                port["protocol"] = p.protocol
                if p.app_protocol is not None:
                    port["appProtocol"] = p.app_protocol
                ports.append(port)
            d["ports"] = ports
        d["endpoints"] = [_endpoint_json(e) for e in s.endpoints]
        out.append(d)
    return out
