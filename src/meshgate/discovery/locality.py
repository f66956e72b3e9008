"""Per-client locality load balancing: endpoint priorities and locality weights (ARCHITECTURE §4, §7).

What a DestinationRule's ``localityLbSetting`` gives one connecting proxy, computed the way Istio
(>= 1.31, ``pilot/pkg/networking/core/loadbalancer``) does:

* **default scheme** (no ``failover``, ``failoverPriority`` or ``distribute``): priority 0 for
  endpoints in the proxy's region+zone+subzone, 1 for its region+zone, 2 for its region, 3 for
  everything else;
* **failover** (``from`` region -> ``to`` region): when the proxy's region is the ``from`` of a
  rule (the first such rule decides), endpoints of other regions that are not in its ``to``
  region drop to 4, behind the ``to`` region's 3;
* **failoverPriority** (ordered label keys, or ``key=value`` to compare with a literal instead of
  the proxy's own value): with N entries, an endpoint whose first mismatching entry is at index
  j gets N - j, one matching all gets 0. A first entry of exactly ``topology.istio.io/network``
  is preferred, not required: an endpoint on another network is ranked by the remaining entries
  as if the network matched, then pushed behind every same-network endpoint (+ N);
* failoverPriority together with failover: label priority x 5 + locality priority;
* priorities are compacted to 0..K without gaps, keeping their order;
* **distribute**: the first rule whose ``from`` matches the proxy's locality sets per-locality
  weights; a ``to`` pattern that matches several localities shares its weight between them in
  proportion to their own weights (rounded up); localities no ``to`` matches are removed.
  distribute excludes the failover modes.

failover, failoverPriority and the default scheme need outlier detection (the caller's
``applies``: the DestinationRule has outlierDetection, or trafficDistribution forces it);
without it every endpoint keeps priority 0. distribute does not need it. ``enabled: false``
turns everything off.

Which setting applies is :func:`effective_setting` (Istio's GetEffectiveLbSetting): the
DestinationRule's localityLbSetting when it has one (``enabled: false`` there turns locality
load balancing off, whatever the service asks); else the service's traffic distribution
(PreferSameZone, PreferClose, PreferSameNode), which forces failoverPriority with or without
outlier detection; else the mesh default (on, default scheme), which needs outlier detection.

The result depends on few attributes of the proxy (its locality; the values of the
failoverPriority labels): :func:`lb_context` names them, and :class:`PlacementCache` shares one
computation between all the proxies with an equal context.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..ir_clusters import LocalitySetting  # part of the IR (tests and callers import it from here too)
from .model import REGION_LABEL, SUBZONE_LABEL, ZONE_LABEL, EndpointModel, Locality

HOSTNAME_LABEL = "kubernetes.io/hostname"
NETWORK_LABEL = "topology.istio.io/network"

# failover can give locality priorities 0..4: a label priority is scaled past them.
_LOCALITY_LEVELS = 5

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ProxyView:
    """What locality load balancing knows of a proxy: its locality and (augmented) labels."""

    locality: Locality
    labels: Labels
    network: str = ""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one endpoint lands for one proxy.

    ``priority``: Envoy priority (0 is tried first). ``weight``: the load_balancing_weight of
    the endpoint's locality when distribute set it, None otherwise (the locality keeps the sum
    of its endpoints' weights). ``rule``: why, in a few words. ``excluded``: distribute removed
    the endpoint's locality (no ``to`` pattern matched it); its weight is then 0 and it must not
    be sent.
    """

    priority: int
    weight: int | None
    rule: str
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class LocalityGroup:
    """One LocalityLbEndpoints: the endpoints of one locality at one priority."""

    locality: Locality
    priority: int
    load_balancing_weight: int
    endpoints: tuple[EndpointModel, ...]


# --- labels -------------------------------------------------------------------------------------

def _as_dict(labels: Labels | Mapping[str, str]) -> dict[str, str]:
    return dict(labels.items()) if isinstance(labels, Mapping) else dict(labels)


def _augment(labels: dict[str, str], locality: Locality, node_name: str | None, network: str) -> Labels:
    """Istio's AugmentLabels: topology labels from the locality and hostname from the node name
    replace the object's own; the network label is only added when absent."""
    if locality.region:
        labels[REGION_LABEL] = locality.region
    if locality.zone:
        labels[ZONE_LABEL] = locality.zone
    if locality.subzone:
        labels[SUBZONE_LABEL] = locality.subzone
    if node_name:
        labels[HOSTNAME_LABEL] = node_name
    if network and not labels.get(NETWORK_LABEL):
        labels[NETWORK_LABEL] = network
    return tuple(sorted(labels.items()))


def proxy_view(
    locality: Locality,
    labels: Labels | Mapping[str, str],
    node_name: str | None,
    network: str = "",
) -> ProxyView:
    """A proxy's view from its node locality, its labels, its node name and its network.

    As Istio does (setTopologyLabels): when the proxy's own labels carry any of the region, zone
    or subzone labels, its locality comes from those labels, not from `locality`; the locality is
    then written back as those labels (so the proxy's own topology labels are kept). The node
    name becomes ``kubernetes.io/hostname`` (replacing a label of that name, as Istio does). The
    network becomes ``topology.istio.io/network`` only when the proxy has no such label.
    """
    own = _as_dict(labels)
    if REGION_LABEL in own or ZONE_LABEL in own or SUBZONE_LABEL in own:
        locality = Locality(own.get(REGION_LABEL, ""), own.get(ZONE_LABEL, ""), own.get(SUBZONE_LABEL, ""))
    return ProxyView(locality, _augment(own, locality, node_name, network), network)


def endpoint_labels(ep: EndpointModel) -> dict[str, str]:
    """An endpoint's labels as failoverPriority compares them: its workload labels augmented with
    its locality, node and network (as Istio's registries augment IstioEndpoint labels)."""
    return dict(_augment(dict(ep.labels), ep.locality, ep.node_name, ep.network))


# --- the setting in force -------------------------------------------------------------------------

# failoverPriority forced by a service's traffic distribution when no DestinationRule sets
# localityLbSetting (Istio's GetEffectiveLbSetting).
TRAFFIC_DISTRIBUTION_PRIORITIES = {
    "PreferSameZone": (NETWORK_LABEL, REGION_LABEL, ZONE_LABEL),
    "PreferSameNode": (NETWORK_LABEL, REGION_LABEL, ZONE_LABEL, SUBZONE_LABEL, HOSTNAME_LABEL),
}


@dataclass(frozen=True, slots=True)
class EffectiveSetting:
    """The locality setting in force for a cluster, whether failover may apply, and why.

    ``forced``: the service's traffic distribution chose it (failover applies without outlier
    detection). ``source``: where it came from, in words.
    """

    setting: LocalitySetting | None
    applies: bool
    source: str
    forced: bool = False


def effective_setting(rule_setting: LocalitySetting | None, outlier_detection: bool,
                      traffic_distribution: str | None, traffic_distribution_source: str = "") -> EffectiveSetting:
    """The setting in force: the DestinationRule's localityLbSetting (`rule_setting`, None when
    the rule has none or there is no rule), else the service's traffic distribution
    (PreferSameZone or PreferSameNode, as discovery normalises it), else the mesh default.
    `outlier_detection`: the rule's policy for the port has outlierDetection."""
    if rule_setting is not None:
        if rule_setting.enabled is False:
            return EffectiveSetting(None, False, "the DestinationRule's localityLbSetting has enabled: false")
        return EffectiveSetting(rule_setting, outlier_detection, "the DestinationRule's localityLbSetting")
    forced = TRAFFIC_DISTRIBUTION_PRIORITIES.get(traffic_distribution or "")
    if forced:
        why = f"trafficDistribution {traffic_distribution}"
        if traffic_distribution_source:
            why += f" ({traffic_distribution_source})"
        return EffectiveSetting(LocalitySetting(enabled=True, failover_priority=forced), True, why, forced=True)
    if outlier_detection:
        # Istio's mesh default has locality load balancing on: with outlier detection, the
        # default scheme prefers the proxy's own subzone, zone, then region.
        return EffectiveSetting(LocalitySetting(), True, "the mesh default, with outlierDetection")
    return EffectiveSetting(None, False, "the mesh default, without outlierDetection")


# --- the setting, resolved ------------------------------------------------------------------------

def _mode(setting: LocalitySetting | None, applies: bool) -> str:
    """Which computation applies: "off", "disabled", "no-outlier", "distribute" or "failover"."""
    if setting is None:
        return "off"
    if setting.enabled is False:
        return "disabled"
    if setting.distribute:
        return "distribute"  # Istio applies distribute whether or not failover could apply
    if not applies:
        return "no-outlier"
    return "failover"


_OFF_RULES = {
    "off": "no locality load balancing",
    "disabled": "no locality load balancing (localityLbSetting.enabled is false)",
    "no-outlier": "no locality load balancing (failover needs outlierDetection)",
}


def _parse_priority_keys(entries: Sequence[str]) -> list[tuple[str, str | None]]:
    """failoverPriority entries as (label key, literal or None). Like Istio, ``a=b=c`` (more
    than one separator) is a plain key ``a`` with no literal."""
    out: list[tuple[str, str | None]] = []
    for entry in entries:
        parts = entry.split("=")
        out.append((parts[0], parts[1] if len(parts) == 2 else None))
    return out


def _network_preferred(setting: LocalitySetting) -> bool:
    """The network-preferred rule: the first failoverPriority entry is exactly the network key."""
    return bool(setting.failover_priority) and setting.failover_priority[0] == NETWORK_LABEL


def _uses_locality(setting: LocalitySetting) -> bool:
    """Whether the failover computation reads the proxy's locality."""
    return not setting.failover_priority or bool(setting.failover)


def lb_context(proxy: ProxyView, setting: LocalitySetting | None, applies: bool) -> tuple:
    """The load-balancing context: the attributes of `proxy` that :func:`place_endpoints` reads
    for this setting, and nothing else. Two proxies with equal contexts get equal placements for
    the same endpoints, setting and `applies`, so they can share them (ARCHITECTURE §4).

    * no locality load balancing: nothing of the proxy -> ``("off",)``;
    * distribute: the proxy's locality (which ``from`` rule matches);
    * failover / default scheme: the locality, when it is read (no failoverPriority, or
      failover given with it); with failoverPriority, the proxy's values of the label keys it
      compares with (``key=value`` entries compare with the literal, so not read), and whether
      the proxy has labels at all (Istio skips failoverPriority for a proxy without labels).
    """
    mode = _mode(setting, applies)
    if mode in _OFF_RULES:
        return ("off",)
    assert setting is not None
    loc = (proxy.locality.region, proxy.locality.zone, proxy.locality.subzone)
    if mode == "distribute":
        return ("distribute", loc)
    values: tuple[str, ...] = ()
    has_labels = False
    if setting.failover_priority:
        labels = dict(proxy.labels)
        has_labels = bool(labels)
        values = tuple(labels.get(key, "") for key, literal in _parse_priority_keys(setting.failover_priority)
                       if literal is None)
    return ("failover", loc if _uses_locality(setting) else None, has_labels, values)


# --- placement ------------------------------------------------------------------------------------

def locality_match(locality: Locality, pattern: str) -> bool:
    """Whether `locality` matches a ``region/zone/subzone`` pattern: ``*`` matches anything, and
    a missing zone or subzone part matches any (Istio's LocalityMatch)."""
    parts = pattern.split("/")
    region = parts[0]
    zone = parts[1] if len(parts) > 1 else ""
    subzone = parts[2] if len(parts) > 2 else ""
    return ((region == "*" or locality.region == region)
            and (zone in ("*", "") or locality.zone == zone)
            and (subzone in ("*", "") or locality.subzone == subzone))


def locality_priority(proxy: Locality, endpoint: Locality) -> int:
    """Default-scheme priority of an endpoint's locality for a proxy's (0..3)."""
    if proxy.region != endpoint.region:
        return 3
    if proxy.zone != endpoint.zone:
        return 2
    if proxy.subzone != endpoint.subzone:
        return 1
    return 0


_LOCALITY_RULES = ("same region/zone/subzone", "same region/zone", "same region", "other region")


def _compact(raw: Sequence[int]) -> list[int]:
    """Priorities renumbered 0..K without gaps, keeping their order."""
    rank = {p: i for i, p in enumerate(sorted(set(raw)))}
    return [rank[p] for p in raw]


def locality_text(locality: Locality) -> str:
    """``region/zone/subzone`` without empty trailing parts, or "(no locality)"."""
    parts = [locality.region, locality.zone, locality.subzone]
    while parts and not parts[-1]:
        parts.pop()
    return "/".join(parts) or "(no locality)"


def _weight_of(ep: EndpointModel) -> int:
    return ep.weight if ep.weight > 0 else 1


def _distribute(proxy: ProxyView, endpoints: Sequence[EndpointModel], setting: LocalitySetting) -> list[Placement]:
    rule = next(((frm, to) for frm, to in setting.distribute if locality_match(proxy.locality, frm)), None)
    if rule is None:
        why = f"distribute: no rule from {locality_text(proxy.locality)}"
        return [Placement(0, None, why) for _ in endpoints]
    frm, destinations = rule
    # A locality's own weight is the sum of its endpoints' weights (Envoy's default of 1 each).
    own: dict[Locality, int] = {}
    for ep in endpoints:
        own[ep.locality] = own.get(ep.locality, 0) + _weight_of(ep)
    left = dict.fromkeys(sorted(own, key=lambda loc: (loc.region, loc.zone, loc.subzone)))
    decided: dict[Locality, Placement] = {}
    # Istio walks its `to` map in Go's random order; the order written is used here, so a
    # locality that several patterns match gets the first one's share.
    for to, percent in destinations:
        matched = [loc for loc in left if locality_match(loc, to)]
        for loc in matched:
            del left[loc]
        total = sum(own[loc] for loc in matched)
        share = f" (shared by {len(matched)} localities)" if len(matched) > 1 else ""
        for loc in matched:
            why = f"distribute from {frm} to {to}: {percent}%{share}"
            if percent > 0:
                decided[loc] = Placement(0, math.ceil(own[loc] * percent / total), why)
            else:  # Istio leaves a locality's weight alone when its share is 0
                decided[loc] = Placement(0, None, why + ", weight unchanged")
    for loc in left:
        decided[loc] = Placement(0, 0, f"distribute from {frm}: {locality_text(loc)} matches no destination; "
                                       "removed", excluded=True)
    return [decided[ep.locality] for ep in endpoints]


def _label_priority(
    proxy_labels: Mapping[str, str],
    ep_labels: Mapping[str, str],
    keys: Sequence[tuple[str, str | None]],
    network_preferred: bool,
) -> tuple[int, str]:
    """failoverPriority priority of one endpoint, before compaction, and why."""
    n = len(keys)
    notes: list[str] = []
    penalty = 0
    start = 0
    if network_preferred and proxy_labels.get(NETWORK_LABEL, "") != ep_labels.get(NETWORK_LABEL, ""):
        # Preferred, not required: rank by the remaining keys, behind every same-network endpoint.
        notes.append(f"mismatched {NETWORK_LABEL} (preferred, not required)")
        penalty = n
        start = 1
    for j in range(start, n):
        key, literal = keys[j]
        wanted = literal if literal is not None else proxy_labels.get(key, "")
        shown = f"{key}={literal}" if literal is not None else key
        if wanted != ep_labels.get(key, ""):
            notes.append(f"mismatched {shown}")
            return n - j + penalty, "failoverPriority: " + ", ".join(notes)
        notes.append(f"matched {shown}")
    return penalty, "failoverPriority: " + ", ".join(notes)


def _failover(proxy: ProxyView, endpoints: Sequence[EndpointModel], setting: LocalitySetting) -> list[Placement]:
    count = len(endpoints)
    label_prio = [0] * count
    label_why = [""] * count
    if setting.failover_priority:
        proxy_labels = dict(proxy.labels)
        if proxy_labels:
            keys = _parse_priority_keys(setting.failover_priority)
            preferred = _network_preferred(setting)
            raw = []
            for i, ep in enumerate(endpoints):
                p, label_why[i] = _label_priority(proxy_labels, endpoint_labels(ep), keys, preferred)
                raw.append(p)
            label_prio = _compact(raw)
        else:
            label_why = ["failoverPriority: the proxy has no labels"] * count
    if not _uses_locality(setting):
        return [Placement(p, None, why) for p, why in zip(_compact(label_prio), label_why)]

    region = proxy.locality.region
    target = next((to for frm, to in setting.failover if frm == region), None)
    combined = []
    loc_why = []
    for i, ep in enumerate(endpoints):
        p = locality_priority(proxy.locality, ep.locality)
        why = _LOCALITY_RULES[p]
        if p == 3 and target is not None:
            if ep.locality.region == target:
                why = f"failover to {target}"
            else:
                p = 4
                why = f"other region, not the failover target {target} of {region}"
        combined.append(label_prio[i] * _LOCALITY_LEVELS + p)
        loc_why.append(why)
    return [Placement(p, None, f"{lw}; {ww}" if lw else ww)
            for p, lw, ww in zip(_compact(combined), label_why, loc_why)]


def place_endpoints(
    proxy: ProxyView,
    endpoints: Sequence[EndpointModel],
    setting: LocalitySetting | None,
    applies: bool,
) -> list[Placement]:
    """One :class:`Placement` per endpoint, in the same order, for this proxy.

    `applies` is whether failover may apply (the DestinationRule has outlierDetection, or the
    Service's trafficDistribution forces it); it does not affect distribute.
    """
    mode = _mode(setting, applies)
    if mode in _OFF_RULES:
        return [Placement(0, None, _OFF_RULES[mode]) for _ in endpoints]
    assert setting is not None
    if mode == "distribute":
        return _distribute(proxy, endpoints, setting)
    return _failover(proxy, endpoints, setting)


def group_by_priority(
    endpoints: Sequence[EndpointModel],
    placements: Sequence[Placement],
) -> list[LocalityGroup]:
    """The LocalityLbEndpoints of a ClusterLoadAssignment: endpoints grouped by locality and
    priority, in locality order then priority order (as Istio orders them), excluded endpoints
    left out. A group's load_balancing_weight is the weight distribute gave its locality, else
    the sum of its endpoints' weights (1 each when unset)."""
    if len(endpoints) != len(placements):
        raise ValueError("one placement per endpoint is needed")
    groups: dict[tuple[Locality, int], list[tuple[EndpointModel, Placement]]] = {}
    for ep, pl in zip(endpoints, placements):
        if not pl.excluded:
            groups.setdefault((ep.locality, pl.priority), []).append((ep, pl))
    out = []
    for (loc, prio), members in sorted(groups.items(), key=lambda kv: (kv[0][0].region, kv[0][0].zone,
                                                                       kv[0][0].subzone, kv[0][1])):
        set_weight = next((pl.weight for _, pl in members if pl.weight is not None), None)
        weight = set_weight if set_weight is not None else sum(_weight_of(ep) for ep, _ in members)
        out.append(LocalityGroup(loc, prio, weight, tuple(ep for ep, _ in members)))
    return out


# --- sharing ------------------------------------------------------------------------------------

class PlacementCache:
    """Placements shared between proxies with equal load-balancing contexts (ARCHITECTURE §4).

    Keyed by (cluster name, endpoints version, setting, applies, :func:`lb_context`): the caller
    names the endpoints' version (anything hashable that changes when they do). When a cluster is
    seen with a new version, its entries for other versions are dropped. The caller owns the
    instance; nothing is shared between instances.
    """

    def __init__(self) -> None:
        # Per cluster, so that forgetting one cluster does not scan the others' entries.
        self._entries: dict[str, dict[tuple, tuple[Placement, ...]]] = {}
        self._versions: dict[str, Hashable] = {}
        self.computations = 0
        self.hits = 0

    def placements(
        self,
        cluster: str,
        version: Hashable,
        proxy: ProxyView,
        endpoints: Sequence[EndpointModel],
        setting: LocalitySetting | None,
        applies: bool,
    ) -> tuple[Placement, ...]:
        """The placements of `endpoints` (at `version`) for `proxy`, computed once per context."""
        if self._versions.get(cluster, version) != version:
            self.invalidate(cluster)
        self._versions[cluster] = version
        entries = self._entries.setdefault(cluster, {})
        key = (version, setting, applies, lb_context(proxy, setting, applies))
        found = entries.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.computations += 1
        result = tuple(place_endpoints(proxy, endpoints, setting, applies))
        entries[key] = result
        return result

    def invalidate(self, cluster: str | None = None) -> None:
        """Forget one cluster's entries, or all of them."""
        if cluster is None:
            self._entries.clear()
            self._versions.clear()
            return
        self._versions.pop(cluster, None)
        self._entries.pop(cluster, None)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())


def contexts(proxies: Iterable[ProxyView], setting: LocalitySetting | None, applies: bool) -> set[tuple]:
    """The distinct load-balancing contexts among `proxies` (how many computations they need)."""
    return {lb_context(p, setting, applies) for p in proxies}
