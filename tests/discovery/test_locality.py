"""Per-client locality load balancing (ARCHITECTURE §4, §7).

The tables re-express the cases of Istio's own loadbalancer tests (TestApplyLocalitySetting:
Distribute, Failover, FailoverPriority, FailoverPriority with Failover) for meshgate's
per-endpoint model, plus the rules ARCHITECTURE §7 adds (network-preferred, augmentation).
"""

from __future__ import annotations

import pytest

from meshgate.discovery.locality import (
    HOSTNAME_LABEL,
    NETWORK_LABEL,
    REGION_LABEL,
    SUBZONE_LABEL,
    ZONE_LABEL,
    LocalityGroup,
    LocalitySetting,
    Placement,
    PlacementCache,
    ProxyView,
    endpoint_labels,
    group_by_priority,
    lb_context,
    locality_match,
    place_endpoints,
    proxy_view,
)
from meshgate.discovery.model import HEALTHY, EndpointModel, Locality

CLUSTER_LABEL = "topology.istio.io/cluster"


def loc(text: str) -> Locality:
    parts = (text.split("/") + ["", "", ""])[:3] if text else ["", "", ""]
    return Locality(*parts)


def ep(address: str, locality: str = "", labels: dict[str, str] | None = None, *, network: str = "",
       weight: int = 0, node: str | None = None) -> EndpointModel:
    return EndpointModel(address, 8080, HEALTHY, loc(locality), node_name=node,
                         labels=tuple(sorted((labels or {}).items())), network=network, weight=weight)


def proxy(locality: str, labels: dict[str, str] | None = None, node: str | None = None, network: str = "") -> ProxyView:
    return proxy_view(loc(locality), labels or {}, node, network)


def priorities(placements: list[Placement]) -> list[int]:
    return [p.priority for p in placements]


FAILOVER = LocalitySetting(failover=(("region1", "region2"),))

# --- default scheme and failover (Istio: "Failover: all priorities", "... with gaps", "... nil localities")

# Istio's buildFakeCluster localities, one endpoint each.
FAKE_CLUSTER = [
    ep("10.0.0.1", "region1/zone1/subzone1"),
    ep("10.0.0.2", "region1/zone1/subzone1"),
    ep("10.0.0.3", "region1/zone1/subzone2"),
    ep("10.0.0.4", "region1/zone1/subzone3"),
    ep("10.0.0.5", "region1/zone2"),
    ep("10.0.0.6", "region2"),
    ep("10.0.0.7", "region3"),
]
SMALL_CLUSTER = [
    ep("10.0.1.1", "region1/zone1/subzone2"),
    ep("10.0.1.2", "region2/zone1/subzone2"),
    ep("10.0.1.3", "region2/zone1/subzone2"),
]
SMALL_CLUSTER_NO_LOCALITY = [
    ep("10.0.2.1", "region1/zone1/subzone2"),
    ep("10.0.2.2", ""),
    ep("10.0.2.3", "region2/zone1/subzone2"),
]

LOCALITY_CASES = [
    # name, proxy locality, endpoints, setting, expected priorities
    ("default scheme: subzone, zone, region, other", "region1/zone1/subzone1", FAKE_CLUSTER,
     LocalitySetting(), [0, 0, 1, 1, 2, 3, 3]),
    ("Failover: all priorities (region1 fails over to region2, region3 pushed to 4)", "region1/zone1/subzone1",
     FAKE_CLUSTER, FAILOVER, [0, 0, 1, 1, 2, 3, 4]),
    ("Failover: priorities with gaps are compacted", "region1/zone1/subzone1", SMALL_CLUSTER, FAILOVER,
     [0, 1, 1]),
    ("Failover: priorities with some nil localities", "region1/zone1/subzone1", SMALL_CLUSTER_NO_LOCALITY,
     FAILOVER, [0, 2, 1]),
    ("failover rules from another region change nothing", "region3/zone1/subzone1", FAKE_CLUSTER, FAILOVER,
     [1, 1, 1, 1, 1, 1, 0]),
    ("default scheme compacts a missing level", "region1/zone1/subzone1",
     [ep("a", "region1/zone1/subzone2"), ep("b", "region9")], LocalitySetting(), [0, 1]),
    ("only the first failover rule from the proxy's region counts", "region1/zone1/subzone1", FAKE_CLUSTER,
     LocalitySetting(failover=(("region1", "region3"), ("region1", "region2"))), [0, 0, 1, 1, 2, 4, 3]),
    ("a proxy without locality matches endpoints without locality first", "", SMALL_CLUSTER_NO_LOCALITY,
     LocalitySetting(), [1, 0, 1]),
]


@pytest.mark.parametrize("name,proxy_locality,endpoints,setting,expected", LOCALITY_CASES,
                         ids=[c[0] for c in LOCALITY_CASES])
def test_locality_priorities(name, proxy_locality, endpoints, setting, expected):
    assert priorities(place_endpoints(proxy(proxy_locality), endpoints, setting, True)) == expected


def test_failover_rules_explain_the_priority():
    got = place_endpoints(proxy("region1/zone1/subzone1"), FAKE_CLUSTER, FAILOVER, True)
    assert [p.rule for p in got] == [
        "same region/zone/subzone", "same region/zone/subzone", "same region/zone", "same region/zone",
        "same region", "failover to region2", "other region, not the failover target region2 of region1",
    ]
    assert all(p.weight is None and not p.excluded for p in got)


# --- disabled, no outlier detection (Istio: "Failover: with locality lb disabled") ---------------

@pytest.mark.parametrize("setting,applies,rule", [
    (None, True, "no locality load balancing"),
    (LocalitySetting(enabled=False, failover=FAILOVER.failover), True,
     "no locality load balancing (localityLbSetting.enabled is false)"),
    (LocalitySetting(enabled=False, distribute=(("*", (("region1/*", 100),)),)), True,
     "no locality load balancing (localityLbSetting.enabled is false)"),
    (FAILOVER, False, "no locality load balancing (failover needs outlierDetection)"),
    (LocalitySetting(failover_priority=(NETWORK_LABEL,)), False,
     "no locality load balancing (failover needs outlierDetection)"),
    (LocalitySetting(enabled=True), False, "no locality load balancing (failover needs outlierDetection)"),
])
def test_no_locality_load_balancing(setting, applies, rule):
    got = place_endpoints(proxy("region1/zone1/subzone1", {NETWORK_LABEL: "n1"}), FAKE_CLUSTER, setting, applies)
    assert got == [Placement(0, None, rule)] * len(FAKE_CLUSTER)


def test_enabled_true_is_the_default_scheme():
    got = place_endpoints(proxy("region1/zone1/subzone1"), FAKE_CLUSTER, LocalitySetting(enabled=True), True)
    assert priorities(got) == [0, 0, 1, 1, 2, 3, 3]


# --- failoverPriority (Istio: "FailoverPriority" table) --------------------------------------------

# Istio's buildWrappedLocalityLbEndpoints: three localities, two endpoints each.
PRIORITY_ENDPOINTS = [
    ep("1.1.1.1", "region1/zone1/subzone1", {NETWORK_LABEL: "n1", CLUSTER_LABEL: "c1"}),
    ep("2.2.2.2", "region1/zone1/subzone1", {"key": "value", NETWORK_LABEL: "n2", CLUSTER_LABEL: "c2"}),
    ep("3.3.3.3", "region2/zone2/subzone2", {"key": "value", NETWORK_LABEL: "n1", CLUSTER_LABEL: "c3"}),
    ep("4.4.4.4", "region2/zone2/subzone2", {"key": "value", NETWORK_LABEL: "n2", CLUSTER_LABEL: "c4"}),
    ep("1.2.3.4", "region3/zone3/subzone3", {"key": "value", NETWORK_LABEL: "n1", CLUSTER_LABEL: "c1"}),
    ep("2.3.4.5", "region3/zone3/subzone3", {"key": "value", NETWORK_LABEL: "n2", CLUSTER_LABEL: "c2"}),
]
NET_CLUSTER = (NETWORK_LABEL, CLUSTER_LABEL)

FAILOVER_PRIORITY_CASES = [
    # name, failoverPriority, proxy labels, expected priorities, expected groups (locality, priority, weight, addresses)
    ("match none label", NET_CLUSTER, {NETWORK_LABEL: "test", CLUSTER_LABEL: "test"},
     [0, 0, 0, 0, 0, 0],
     [("region1/zone1/subzone1", 0, 2, ("1.1.1.1", "2.2.2.2")),
      ("region2/zone2/subzone2", 0, 2, ("3.3.3.3", "4.4.4.4")),
      ("region3/zone3/subzone3", 0, 2, ("1.2.3.4", "2.3.4.5"))]),
    ("match network label", NET_CLUSTER, {NETWORK_LABEL: "n1", CLUSTER_LABEL: "test"},
     [0, 1, 0, 1, 0, 1],
     [("region1/zone1/subzone1", 0, 1, ("1.1.1.1",)), ("region1/zone1/subzone1", 1, 1, ("2.2.2.2",)),
      ("region2/zone2/subzone2", 0, 1, ("3.3.3.3",)), ("region2/zone2/subzone2", 1, 1, ("4.4.4.4",)),
      ("region3/zone3/subzone3", 0, 1, ("1.2.3.4",)), ("region3/zone3/subzone3", 1, 1, ("2.3.4.5",))]),
    # Before the network-preferred rule Istio gave every endpoint 0 here (the network decided it
    # alone); with it, no endpoint shares the proxy's network, so the cluster label ranks them.
    ("not match the first n label (network preferred: the cluster label still ranks)", NET_CLUSTER,
     {NETWORK_LABEL: "test", CLUSTER_LABEL: "c1"},
     [0, 1, 1, 1, 0, 1],
     [("region1/zone1/subzone1", 0, 1, ("1.1.1.1",)), ("region1/zone1/subzone1", 1, 1, ("2.2.2.2",)),
      ("region2/zone2/subzone2", 1, 2, ("3.3.3.3", "4.4.4.4")),
      ("region3/zone3/subzone3", 0, 1, ("1.2.3.4",)), ("region3/zone3/subzone3", 1, 1, ("2.3.4.5",))]),
    ("match all labels", ("key", NETWORK_LABEL, CLUSTER_LABEL),
     {"key": "value", NETWORK_LABEL: "n2", CLUSTER_LABEL: "c2"},
     [3, 0, 2, 1, 2, 0],
     [("region1/zone1/subzone1", 0, 1, ("2.2.2.2",)), ("region1/zone1/subzone1", 3, 1, ("1.1.1.1",)),
      ("region2/zone2/subzone2", 1, 1, ("4.4.4.4",)), ("region2/zone2/subzone2", 2, 1, ("3.3.3.3",)),
      ("region3/zone3/subzone3", 0, 1, ("2.3.4.5",)), ("region3/zone3/subzone3", 2, 1, ("1.2.3.4",))]),
    ("priority assignment as per the overridden value", (f"{NETWORK_LABEL}=n1",),
     {NETWORK_LABEL: "n2", CLUSTER_LABEL: "test"},
     [0, 1, 0, 1, 0, 1],
     [("region1/zone1/subzone1", 0, 1, ("1.1.1.1",)), ("region1/zone1/subzone1", 1, 1, ("2.2.2.2",)),
      ("region2/zone2/subzone2", 0, 1, ("3.3.3.3",)), ("region2/zone2/subzone2", 1, 1, ("4.4.4.4",)),
      ("region3/zone3/subzone3", 0, 1, ("1.2.3.4",)), ("region3/zone3/subzone3", 1, 1, ("2.3.4.5",))]),
    ("no endpoints with overridden value", (f"{NETWORK_LABEL}=n3",),
     {NETWORK_LABEL: "n1", CLUSTER_LABEL: "test"},
     [0, 0, 0, 0, 0, 0],
     [("region1/zone1/subzone1", 0, 2, ("1.1.1.1", "2.2.2.2")),
      ("region2/zone2/subzone2", 0, 2, ("3.3.3.3", "4.4.4.4")),
      ("region3/zone3/subzone3", 0, 2, ("1.2.3.4", "2.3.4.5"))]),
]


@pytest.mark.parametrize("name,keys,labels,expected,groups", FAILOVER_PRIORITY_CASES,
                         ids=[c[0] for c in FAILOVER_PRIORITY_CASES])
def test_failover_priority(name, keys, labels, expected, groups):
    view = proxy("region1/zone1/subzone1", labels)
    got = place_endpoints(view, PRIORITY_ENDPOINTS, LocalitySetting(failover_priority=keys), True)
    assert priorities(got) == expected
    built = group_by_priority(PRIORITY_ENDPOINTS, got)
    assert [(str(g.locality), g.priority, g.load_balancing_weight, tuple(e.address for e in g.endpoints))
            for g in built] == groups


def test_failover_priority_rules_name_matched_and_mismatched_keys():
    view = proxy("region1/zone1/subzone1", {NETWORK_LABEL: "n1", CLUSTER_LABEL: "test"})
    got = place_endpoints(view, PRIORITY_ENDPOINTS[:2], LocalitySetting(failover_priority=NET_CLUSTER), True)
    assert got[0].rule == f"failoverPriority: matched {NETWORK_LABEL}, mismatched {CLUSTER_LABEL}"
    assert got[1].rule == (f"failoverPriority: mismatched {NETWORK_LABEL} (preferred, not required), "
                           f"mismatched {CLUSTER_LABEL}")
    literal = place_endpoints(view, PRIORITY_ENDPOINTS[:1], LocalitySetting(failover_priority=("app=web",)), True)
    assert literal[0].rule == "failoverPriority: mismatched app=web"


def test_failover_priority_key_value_ignores_the_proxy_value():
    # "app=web" compares every endpoint with the literal, whatever the proxy's own app label.
    eps = [ep("a", labels={"app": "web"}), ep("b", labels={"app": "api"}), ep("c")]
    for own in ({"app": "web"}, {"app": "api"}, {"other": "x"}):
        got = place_endpoints(proxy("r/z/s", own), eps, LocalitySetting(failover_priority=("app=web",)), True)
        assert priorities(got) == [0, 1, 1], own


def test_failover_priority_entry_with_two_separators_is_a_plain_key():
    # Istio splits on "=" and takes a literal only from exactly two parts: "app=a=b" reads the
    # proxy's app label.
    eps = [ep("same", labels={"app": "x"}), ep("a", labels={"app": "a"})]
    setting = LocalitySetting(failover_priority=("app=a=b",))
    assert priorities(place_endpoints(proxy("r/z/s", {"app": "x"}), eps, setting, True)) == [0, 1]


def test_failover_priority_walk_stops_at_the_first_mismatch():
    # ["app", "app=n3"]: an endpoint must match the proxy's app before the literal is looked at,
    # so "app=n3" does not rank n3 above other apps for a proxy outside n3 (Istio's walk).
    eps = [ep("own", labels={"app": "n1"}), ep("lit", labels={"app": "n3"}), ep("other", labels={"app": "n2"})]
    setting = LocalitySetting(failover_priority=("app", "app=n3"))
    assert priorities(place_endpoints(proxy("r/z/s", {"app": "n1"}), eps, setting, True)) == [0, 1, 1]
    assert priorities(place_endpoints(proxy("r/z/s", {"app": "n3"}), eps, setting, True)) == [1, 0, 1]


def test_failover_priority_skipped_for_a_proxy_without_labels():
    # Istio leaves failoverPriority out when the proxy has no labels at all.
    bare = ProxyView(Locality("region1", "zone1", "subzone1"), ())
    got = place_endpoints(bare, PRIORITY_ENDPOINTS, LocalitySetting(failover_priority=NET_CLUSTER), True)
    assert priorities(got) == [0] * 6
    assert got[0].rule == "failoverPriority: the proxy has no labels"
    # An unrelated label is enough for the keys to be compared (missing equals missing).
    labelled = ProxyView(bare.locality, (("unrelated", "x"),))
    eps = [ep("a"), ep("b", labels={"app": "web"})]
    assert priorities(place_endpoints(bare, eps, LocalitySetting(failover_priority=("app",)), True)) == [0, 0]
    assert priorities(place_endpoints(labelled, eps, LocalitySetting(failover_priority=("app",)), True)) == [0, 1]


# --- network-preferred rule (ARCHITECTURE §7; Istio PR 60829) ---------------------------------------------

NETWORK_REGION_ZONE = LocalitySetting(failover_priority=(NETWORK_LABEL, REGION_LABEL, ZONE_LABEL))


def test_network_first_is_preferred_not_required():
    view = proxy("r1/z1/s1", network="n1")
    eps = [
        ep("n1-r2", "r2/z9", network="n1"),
        ep("n2-r1z1", "r1/z1", network="n2"),
        ep("n1-r1z2", "r1/z2", network="n1"),
        ep("n2-r2", "r2/z1", network="n2"),
        ep("n1-r1z1", "r1/z1", network="n1"),
        ep("n2-r1z2", "r1/z2", network="n2"),
    ]
    got = place_endpoints(view, eps, NETWORK_REGION_ZONE, True)
    # Same network: 0 region+zone, 1 region, 2 network only; other networks ranked the same way, behind.
    assert priorities(got) == [2, 3, 1, 5, 0, 4]
    assert got[1].rule == (f"failoverPriority: mismatched {NETWORK_LABEL} (preferred, not required), "
                           f"matched {REGION_LABEL}, matched {ZONE_LABEL}")


def test_network_preferred_only_as_first_plain_key():
    view = proxy("r1/z1/s1", network="n1")
    eps = [ep("n2-r1", "r1/z1", network="n2"), ep("n2-r2", "r2/z1", network="n2"), ep("n1-r2", "r2/z1", network="n1")]
    # Not first: the network is an ordinary key, a mismatch ends the walk.
    second = LocalitySetting(failover_priority=(REGION_LABEL, NETWORK_LABEL))
    assert priorities(place_endpoints(view, eps, second, True)) == [0, 1, 1]
    # First but with a literal: compared with the literal, required like any other key.
    literal = LocalitySetting(failover_priority=(f"{NETWORK_LABEL}=n1", REGION_LABEL))
    assert priorities(place_endpoints(view, eps, literal, True)) == [1, 1, 0]
    # First and plain: preferred.
    plain = LocalitySetting(failover_priority=(NETWORK_LABEL, REGION_LABEL))
    assert priorities(place_endpoints(view, eps, plain, True)) == [1, 2, 0]


def test_endpoint_labels_are_augmented_like_istio_endpoints():
    e = ep("a", "r1/z1", {NETWORK_LABEL: "own", HOSTNAME_LABEL: "old", REGION_LABEL: "stale"},
           network="meta", node="node-a")
    assert endpoint_labels(e) == {NETWORK_LABEL: "own", HOSTNAME_LABEL: "node-a", REGION_LABEL: "r1",
                                  ZONE_LABEL: "z1"}
    assert endpoint_labels(ep("b", network="n7")) == {NETWORK_LABEL: "n7"}


def test_failover_priority_on_hostname_prefers_the_same_node():
    keys = LocalitySetting(failover_priority=(NETWORK_LABEL, REGION_LABEL, ZONE_LABEL, SUBZONE_LABEL, HOSTNAME_LABEL))
    view = proxy("r1/z1/s1", node="node-a", network="n1")
    eps = [ep("same-node", "r1/z1/s1", node="node-a", network="n1"),
           ep("same-subzone", "r1/z1/s1", node="node-b", network="n1"),
           ep("same-zone", "r1/z1/s2", node="node-c", network="n1")]
    assert priorities(place_endpoints(view, eps, keys, True)) == [0, 1, 2]


# --- failoverPriority with failover (Istio: "FailoverPriority with Failover") -----------------------

def test_failover_priority_with_failover_match_all_labels():
    eps = [
        ep("1.1.1.1", "region1/zone1/subzone1", {NETWORK_LABEL: "n1", CLUSTER_LABEL: "c1"}),
        ep("2.2.2.2", "region1/zone2/subzone2", {"key": "value", NETWORK_LABEL: "n2", CLUSTER_LABEL: "c2"}),
        ep("3.3.3.3", "region2/zone2/subzone2", {"key": "value", NETWORK_LABEL: "n1", CLUSTER_LABEL: "c3"}),
        ep("4.4.4.4", "region3/zone3/subzone3", {"key": "value", NETWORK_LABEL: "n2", CLUSTER_LABEL: "c4"}),
        ep("5.5.5.5", "region2/zone2/subzone2", {NETWORK_LABEL: "n2", CLUSTER_LABEL: "c2"}),
        ep("6.6.6.6", "region3/zone3/subzone3", {"key": "value", NETWORK_LABEL: "n1", CLUSTER_LABEL: "c6"}),
    ]
    setting = LocalitySetting(failover=(("region1", "region2"),), failover_priority=NET_CLUSTER)
    view = proxy("region1/zone1/subzone1", {NETWORK_LABEL: "n2", CLUSTER_LABEL: "c2"})
    got = place_endpoints(view, eps, setting, True)
    # label priority x 5 + locality priority, compacted: labels first, locality breaks ties.
    assert priorities(got) == [3, 0, 4, 2, 1, 5]
    assert got[1].rule == f"failoverPriority: matched {NETWORK_LABEL}, matched {CLUSTER_LABEL}; same region"
    assert got[4].rule.endswith("; failover to region2")
    assert got[5].rule.endswith("; other region, not the failover target region2 of region1")


def test_failover_priority_alone_ignores_locality():
    view = proxy("region1/zone1/subzone1", {"app": "web"})
    eps = [ep("far-match", "region9", {"app": "web"}), ep("near-miss", "region1/zone1/subzone1", {"app": "api"})]
    assert priorities(place_endpoints(view, eps, LocalitySetting(failover_priority=("app",)), True)) == [0, 1]
    with_failover = LocalitySetting(failover_priority=("app",), failover=(("region1", "region2"),))
    # Still label first; region9 is not the failover target, so it sinks within its label level.
    eps2 = eps + [ep("r2-match", "region2", {"app": "web"})]
    assert priorities(place_endpoints(view, eps2, with_failover, True)) == [1, 2, 0]


# --- distribute (Istio: "Distribute: distribution between subzones") -------------------------------

def test_distribute_between_subzones():
    # Istio's fake cluster has two entries for subzone1 (40 each); here they are one locality of
    # two endpoints, which gets the whole 80.
    setting = LocalitySetting(distribute=(("region1/zone1/subzone1", (
        ("region1/zone1/subzone1", 80), ("region1/zone1/subzone2", 15), ("region1/zone1/subzone3", 5))),))
    got = place_endpoints(proxy("region1/zone1/subzone1"), FAKE_CLUSTER, setting, True)
    assert [p.weight for p in got] == [80, 80, 15, 5, 0, 0, 0]
    assert [p.excluded for p in got] == [False] * 4 + [True] * 3
    assert priorities(got) == [0] * 7
    assert got[2].rule == "distribute from region1/zone1/subzone1 to region1/zone1/subzone2: 15%"
    assert got[6].rule == "distribute from region1/zone1/subzone1: region3 matches no destination; removed"
    groups = group_by_priority(FAKE_CLUSTER, got)
    assert [(str(g.locality), g.priority, g.load_balancing_weight, len(g.endpoints)) for g in groups] == [
        ("region1/zone1/subzone1", 0, 80, 2), ("region1/zone1/subzone2", 0, 15, 1), ("region1/zone1/subzone3", 0, 5, 1)]


def test_distribute_wildcards_share_in_proportion_rounding_up():
    eps = [
        ep("a", "us-west/zone1/s1"), ep("b", "us-west/zone1/s1"),   # own weight 2
        ep("c", "us-west/zone1/s2"),                                # own weight 1
        ep("d", "us-east/zone1/s1", weight=5),                      # own weight 5
        ep("e", "us-east/zone2/s1", weight=2),                      # own weight 2
        ep("f", "eu/zone1/s1"),
    ]
    setting = LocalitySetting(distribute=(("us-west/*", (("us-west/zone1/*", 60), ("us-east/*", 40))),))
    got = place_endpoints(proxy("us-west/zone1/s1"), eps, setting, True)
    # 60 over weights 2:1 -> 40, 20; 40 over weights 5:2 -> ceil(28.6)=29, ceil(11.4)=12.
    assert [p.weight for p in got] == [40, 40, 20, 29, 12, 0]
    assert got[3].rule == "distribute from us-west/* to us-east/*: 40% (shared by 2 localities)"
    assert got[5].excluded and not any(p.excluded for p in got[:5])


@pytest.mark.parametrize("proxy_locality,expected", [
    ("us-west/zone1/s1", [100, 0]),    # first matching from rule wins
    ("us-east/zone9/s9", [0, 100]),    # "*" catches the rest
])
def test_distribute_first_matching_from_rule(proxy_locality, expected):
    eps = [ep("w", "us-west/zone1/s1"), ep("e", "us-east/zone1/s1")]
    setting = LocalitySetting(distribute=(
        ("us-west/zone1", (("us-west/*", 100),)),
        ("us-west/*", (("us-east/*", 100),)),
        ("*", (("us-east/*", 100),)),
    ))
    assert [p.weight for p in place_endpoints(proxy(proxy_locality), eps, setting, True)] == expected


def test_distribute_without_matching_from_changes_nothing():
    setting = LocalitySetting(distribute=(("us-west/*", (("us-west/*", 100),)),), failover=(("eu", "us-west"),))
    got = place_endpoints(proxy("eu/zone1/s1"), FAKE_CLUSTER, setting, True)
    # distribute excludes failover even when no rule applies to this proxy (Istio's if/else).
    assert got == [Placement(0, None, "distribute: no rule from eu/zone1/s1")] * len(FAKE_CLUSTER)
    groups = group_by_priority(FAKE_CLUSTER, got)
    assert [g.load_balancing_weight for g in groups] == [2, 1, 1, 1, 1, 1]


def test_distribute_applies_without_outlier_detection_and_excludes_failover():
    setting = LocalitySetting(distribute=(("region1/*", (("region2", 100),)),), failover=FAILOVER.failover)
    for applies in (True, False):
        got = place_endpoints(proxy("region1/zone1/subzone1"), FAKE_CLUSTER, setting, applies)
        assert [p.weight for p in got] == [0, 0, 0, 0, 0, 100, 0]
        assert priorities(got) == [0] * 7


def test_distribute_patterns_claim_localities_in_written_order_and_zero_keeps_weight():
    eps = [ep("a", "r1/z1/s1", weight=3), ep("b", "r1/z2/s1")]
    first_specific = LocalitySetting(distribute=(("*", (("r1/z1/*", 70), ("r1/*", 30))),))
    assert [p.weight for p in place_endpoints(proxy("r1/z1/s1"), eps, first_specific, True)] == [70, 30]
    first_broad = LocalitySetting(distribute=(("*", (("r1/*", 30), ("r1/z1/*", 70))),))
    assert [p.weight for p in place_endpoints(proxy("r1/z1/s1"), eps, first_broad, True)] == [23, 8]
    zero = LocalitySetting(distribute=(("*", (("r1/z1/*", 0), ("r1/z2/*", 100))),))
    got = place_endpoints(proxy("r1/z1/s1"), eps, zero, True)
    assert [p.weight for p in got] == [None, 100] and not got[0].excluded
    assert [g.load_balancing_weight for g in group_by_priority(eps, got)] == [3, 100]


@pytest.mark.parametrize("locality,pattern,matches", [
    ("r1/z1/s1", "*", True),
    ("r1/z1/s1", "r1", True),
    ("r1/z1/s1", "r1/*", True),
    ("r1/z1/s1", "r1/z1/*", True),
    ("r1/z1/s1", "r1/z1/s1", True),
    ("r1/z1/s1", "r1/z2", False),
    ("r1/z1/s1", "r2/*", False),
    ("r1/z1/s1", "*/z1/s1", True),
    ("r1/z1/s1", "*/z2", False),
    ("", "*", True),
    ("", "r1", False),
])
def test_locality_match(locality, pattern, matches):
    assert locality_match(loc(locality), pattern) is matches


# --- group_by_priority -------------------------------------------------------------------------------

def test_group_by_priority_sums_endpoint_weights_per_locality_and_priority():
    eps = [ep("a", "r1/z1/s1", weight=3), ep("b", "r1/z1/s1"), ep("c", "r2/z1/s1", weight=2), ep("d", "r1/z1/s1")]
    placements = [Placement(0, None, "x"), Placement(1, None, "x"), Placement(1, None, "x"), Placement(0, None, "x")]
    assert group_by_priority(eps, placements) == [
        LocalityGroup(loc("r1/z1/s1"), 0, 4, (eps[0], eps[3])),
        LocalityGroup(loc("r1/z1/s1"), 1, 1, (eps[1],)),
        LocalityGroup(loc("r2/z1/s1"), 1, 2, (eps[2],)),
    ]
    with pytest.raises(ValueError):
        group_by_priority(eps, placements[:2])


# --- proxy_view ------------------------------------------------------------------------------------

def test_proxy_view_adds_topology_hostname_and_network_labels():
    view = proxy_view(Locality("us-east", "us-east-1a", "rack7"), {"app": "gw"}, "node-1", "net-a")
    assert view.locality == Locality("us-east", "us-east-1a", "rack7")
    assert view.network == "net-a"
    assert view.labels == (("app", "gw"), (HOSTNAME_LABEL, "node-1"), (NETWORK_LABEL, "net-a"),
                           (SUBZONE_LABEL, "rack7"), (REGION_LABEL, "us-east"), (ZONE_LABEL, "us-east-1a"))


def test_proxy_view_skips_empty_parts():
    view = proxy_view(Locality("us-east", "", ""), (("app", "gw"),), None)
    assert dict(view.labels) == {"app": "gw", REGION_LABEL: "us-east"}
    assert proxy_view(Locality(), {}, None).labels == ()


def test_proxy_view_keeps_the_proxys_own_network_and_topology_labels():
    own = {NETWORK_LABEL: "own-net", REGION_LABEL: "label-region", ZONE_LABEL: "label-zone"}
    view = proxy_view(Locality("node-region", "node-zone", "node-subzone"), own, "node-1", "meta-net")
    # The locality comes from the proxy's own topology labels when it has any (Istio's order).
    assert view.locality == Locality("label-region", "label-zone", "")
    assert dict(view.labels) == {NETWORK_LABEL: "own-net", REGION_LABEL: "label-region",
                                 ZONE_LABEL: "label-zone", HOSTNAME_LABEL: "node-1"}


def test_proxy_view_node_name_replaces_a_hostname_label():
    # Istio's AugmentLabels sets kubernetes.io/hostname from the node unconditionally.
    view = proxy_view(Locality("r"), {HOSTNAME_LABEL: "claimed"}, "real-node")
    assert dict(view.labels)[HOSTNAME_LABEL] == "real-node"
    assert dict(proxy_view(Locality("r"), {HOSTNAME_LABEL: "claimed"}, None).labels)[HOSTNAME_LABEL] == "claimed"


def test_proxy_locality_drives_priorities_for_different_proxies():
    # The defect issue 4 names: priorities must depend on the asking proxy's locality.
    eps = [ep("east", "us-east/a/1"), ep("west", "us-west/a/1")]
    east = place_endpoints(proxy("us-east/a/1"), eps, LocalitySetting(), True)
    west = place_endpoints(proxy("us-west/a/1"), eps, LocalitySetting(), True)
    assert priorities(east) == [0, 1] and priorities(west) == [1, 0]


# --- lb_context ----------------------------------------------------------------------------------

def test_lb_context_default_scheme_is_the_locality():
    a = proxy("r1/z1/s1", {"app": "a"}, node="n-a", network="x")
    b = proxy("r1/z1/s1", {"app": "b"}, node="n-b", network="y")
    c = proxy("r1/z1/s2", {"app": "a"}, node="n-a", network="x")
    s = LocalitySetting()
    assert lb_context(a, s, True) == lb_context(b, s, True)
    assert lb_context(a, s, True) != lb_context(c, s, True)
    assert lb_context(a, FAILOVER, True) == lb_context(b, FAILOVER, True)


def test_lb_context_without_locality_load_balancing_is_shared_by_all():
    a, c = proxy("r1/z1/s1", {"app": "a"}), proxy("r9/z9/s9", {"app": "z"})
    for setting, applies in ((None, True), (LocalitySetting(enabled=False), True), (FAILOVER, False)):
        assert lb_context(a, setting, applies) == lb_context(c, setting, applies) == ("off",)


def test_lb_context_failover_priority_is_the_key_values():
    s = LocalitySetting(failover_priority=(NETWORK_LABEL, "app", "tier=gold"))
    a = proxy("r1/z1/s1", {"app": "web", "tier": "x", "other": "1"}, node="n1", network="n1")
    b = proxy("r2/z2/s2", {"app": "web", "tier": "y", "other": "2"}, node="n2", network="n1")
    c = proxy("r1/z1/s1", {"app": "api"}, network="n1")
    d = proxy("r1/z1/s1", {"app": "web"}, network="n2")
    assert lb_context(a, s, True) == lb_context(b, s, True)   # locality, literal key, others: not read
    assert lb_context(a, s, True) != lb_context(c, s, True)
    assert lb_context(a, s, True) != lb_context(d, s, True)
    # With failover too, the locality is read again.
    sf = LocalitySetting(failover_priority=("app",), failover=(("r1", "r2"),))
    assert lb_context(a, sf, True) != lb_context(b, sf, True)
    # A proxy with no labels at all is its own context (Istio skips failoverPriority for it).
    bare, labelled = ProxyView(Locality("r1"), ()), ProxyView(Locality("r1"), (("x", "1"),))
    assert lb_context(bare, s, True) != lb_context(labelled, s, True)


def test_lb_context_distribute_is_the_locality():
    s = LocalitySetting(distribute=(("*", (("r1/*", 100),)),))
    assert lb_context(proxy("r1/z1/s1", {"a": "1"}), s, True) == lb_context(proxy("r1/z1/s1", {"a": "2"}), s, False)
    assert lb_context(proxy("r1/z1/s1"), s, True) != lb_context(proxy("r1/z1/s2"), s, True)


def test_equal_contexts_give_equal_placements():
    eps = PRIORITY_ENDPOINTS + FAKE_CLUSTER + [ep("h", "region1/zone1/subzone1", node="n1", network="n2")]
    settings = [None, LocalitySetting(), FAILOVER,
                LocalitySetting(failover_priority=(NETWORK_LABEL, REGION_LABEL, HOSTNAME_LABEL)),
                LocalitySetting(failover_priority=(CLUSTER_LABEL, f"{NETWORK_LABEL}=n1"), failover=FAILOVER.failover),
                LocalitySetting(distribute=(("region1/*", (("region2", 30), ("region1/zone1/*", 70))),))]
    proxies = [proxy(l, lab, node, net)
               for l in ("region1/zone1/subzone1", "region1/zone1/subzone2", "region2/zone2/subzone2", "")
               for lab in ({}, {CLUSTER_LABEL: "c1"}, {CLUSTER_LABEL: "c2", "x": "y"})
               for node in (None, "n1")
               for net in ("", "n1", "n2")]
    for setting in settings:
        for applies in (True, False):
            seen: dict[tuple, list[Placement]] = {}
            for p in proxies:
                got = place_endpoints(p, eps, setting, applies)
                key = lb_context(p, setting, applies)
                assert seen.setdefault(key, got) == got, (setting, applies, p)


# --- PlacementCache -----------------------------------------------------------------------------

def test_cache_1000_proxies_in_10_localities_compute_10_placements():
    eps = [ep(f"10.1.{r}.{z}", f"region{r}/zone{z}/s", network=f"net{r}") for r in range(5) for z in range(4)]
    localities = [f"region{r}/zone{z}/s" for r in range(5) for z in range(2)]
    proxies = [proxy(localities[i % 10], {"app": "gw", "pod": f"gw-{i}"}, node=f"node-{i}", network=f"net{i % 10 // 2}")
               for i in range(1000)]
    for setting in (FAILOVER, LocalitySetting(failover_priority=(NETWORK_LABEL, REGION_LABEL, ZONE_LABEL))):
        cache = PlacementCache()
        results = [cache.placements("outbound|80||svc", "v1", p, eps, setting, True) for p in proxies]
        assert cache.computations == 10
        assert cache.hits == 990
        assert len(cache) == 10
        for p, got in zip(proxies[:20], results[:20]):
            assert list(got) == place_endpoints(p, eps, setting, True)
        assert results[0] is results[10]  # shared, not copied


def test_cache_keys_on_cluster_version_and_setting():
    eps_v1 = [ep("a", "r1/z1/s1"), ep("b", "r2/z1/s1")]
    eps_v2 = eps_v1 + [ep("c", "r1/z2/s1")]
    p = proxy("r1/z1/s1")
    cache = PlacementCache()
    assert priorities(list(cache.placements("c1", 1, p, eps_v1, FAILOVER, True))) == [0, 1]
    cache.placements("c1", 1, p, eps_v1, FAILOVER, True)
    assert (cache.computations, cache.hits) == (1, 1)
    cache.placements("c2", 1, p, eps_v1, FAILOVER, True)          # another cluster
    cache.placements("c1", 1, p, eps_v1, FAILOVER, False)         # applies changed
    cache.placements("c1", 1, p, eps_v1, LocalitySetting(), True)  # setting changed
    assert cache.computations == 4
    got = cache.placements("c1", 2, p, eps_v2, FAILOVER, True)    # new endpoints version
    assert priorities(list(got)) == [0, 2, 1]
    assert cache.computations == 5
    assert len(cache) == 2  # c1's version-1 entries were dropped; c2's and c1 v2 remain
    cache.invalidate("c2")
    assert len(cache) == 1
    cache.invalidate()
    assert len(cache) == 0
