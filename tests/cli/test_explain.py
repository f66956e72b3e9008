"""`meshgate explain endpoints`: priority, weight and rule per endpoint for one proxy."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from meshgate.cli import main

CASES = Path(__file__).resolve().parents[1] / "golden" / "cases"
PAYMENTS = "outbound|80||payments.example.com"


def explain(*args: str):
    return CliRunner().invoke(main, ["explain", "endpoints", *args])


def test_failover_priorities_and_rules_for_a_proxy() -> None:
    result = explain(str(CASES / "se-static-failover" / "input.yaml"), "--gateway", "apps/gw", "--cluster", PAYMENTS,
                     "--locality", "us-west/zone-1/sub-a", "-o", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["destination_rule"] == "apps/payments"
    assert out["mode"].startswith("failover")
    rows = [(e["address"], e["priority"], e["rule"]) for e in out["endpoints"]]
    assert rows == [
        ("127.0.1.1", 0, "same region/zone/subzone"),
        ("127.0.1.2", 1, "same region"),
        ("127.0.1.3", 2, "failover to us-east"),
        ("127.0.1.4", 3, "other region, not the failover target us-east of us-west"),
    ]


def test_another_locality_sees_other_priorities() -> None:
    result = explain(str(CASES / "se-static-failover" / "input.yaml"), "--gateway", "apps/gw", "--cluster", PAYMENTS,
                     "--locality", "us-east/zone-1", "-o", "json")
    first = json.loads(result.stdout)["endpoints"][0]
    assert (first["address"], first["priority"]) == ("127.0.1.3", 0)


def test_distribute_weights_and_exclusions() -> None:
    result = explain(str(CASES / "dr-distribute" / "input.yaml"), "--gateway", "apps/gw",
                     "--cluster", "outbound|80||catalog.example.com", "--locality", "us-west/zone-1", "-o", "json")
    eps = {e["address"]: e for e in json.loads(result.stdout)["endpoints"]}
    assert eps["127.0.5.1"]["weight"] == 80 and eps["127.0.5.4"]["weight"] == 20
    assert eps["127.0.5.3"]["sent"] is False


def test_without_outlier_detection_it_is_off_and_says_why() -> None:
    args = [str(CASES / "dr-no-outlier-and-traffic-distribution" / "input.yaml"), "--gateway", "apps/gw",
            "--cluster", "outbound|80||plain.example.com", "--locality", "us-west/zone-1"]
    out = json.loads(explain(*args, "-o", "json").stdout)
    assert out["mode"] == "off (no outlierDetection: failover does not apply)"
    assert {e["priority"] for e in out["endpoints"]} == {0}
    table = explain(*args)
    assert table.exit_code == 0 and "every endpoint at priority 0" in table.stdout


def test_unknown_gateway_or_cluster_is_a_usage_error() -> None:
    path = str(CASES / "se-static-failover" / "input.yaml")
    bad_cluster = explain(path, "--gateway", "apps/gw", "--cluster", "outbound|1||nope")
    assert bad_cluster.exit_code == 2 and "its clusters: outbound|80||payments.example.com" in bad_cluster.output
    assert explain(path, "--gateway", "apps/none", "--cluster", PAYMENTS).exit_code == 2


ZONAL = "outbound|80||zonal.apps.svc.cluster.local"


def test_topology_hints_leave_out_other_zones_as_serving_does() -> None:
    args = [str(CASES / "hints-per-zone-eds" / "input.yaml"), "--gateway", "apps/gw", "--cluster", ZONAL]
    result = explain(*args, "--locality", "region-1/zone-a", "-o", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == ("off (no DestinationRule); topology hints: every ready endpoint has zone hints "
                           "and some are for zone zone-a")
    sent = {e["address"]: (e["sent"], e["rule"]) for e in out["endpoints"]}
    assert sent == {
        "127.0.8.1": (True, "every endpoint at priority 0"),
        "127.0.8.2": (True, "every endpoint at priority 0"),
        "127.0.8.3": (False, "left out by topology hints (for another zone or node)"),
        "127.0.8.4": (False, "not ready: topology filtering sends ready endpoints only"),
    }


def test_topology_hints_for_no_zone_of_the_proxy_send_every_ready_endpoint() -> None:
    args = [str(CASES / "hints-per-zone-eds" / "input.yaml"), "--gateway", "apps/gw", "--cluster", ZONAL]
    out = json.loads(explain(*args, "--locality", "region-1/zone-c", "-o", "json").stdout)
    assert out["mode"].endswith("no ready endpoint has a hint for zone zone-c: topology hints ignored")
    assert [e["address"] for e in out["endpoints"] if e["sent"]] == ["127.0.8.1", "127.0.8.2", "127.0.8.3"]


TD_CASE = str(CASES / "se-traffic-distribution" / "input.yaml")
TD_ANNOTATION = "networking.istio.io/traffic-distribution"
PREFER_SAME_ZONE = ["topology.istio.io/network", "topology.kubernetes.io/region", "topology.kubernetes.io/zone"]


def _explain_json(path: str, cluster: str, *proxy: str) -> dict:
    result = explain(path, "--gateway", "apps/gw", "--cluster", cluster, *proxy, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_service_entry_traffic_distribution_without_destination_rule_is_in_force() -> None:
    """The annotation on a ServiceEntry forces failoverPriority (was: "off (no DestinationRule)")."""
    out = _explain_json(TD_CASE, "outbound|80||zonal.example.com", "--locality", "us-west/zone-1")
    assert out["destination_rule"] == ""
    assert out["mode"] == (f"failoverPriority {PREFER_SAME_ZONE}, forced by trafficDistribution PreferSameZone "
                           f"(annotation {TD_ANNOTATION}=PreferSameZone on the ServiceEntry)")
    assert [(e["address"], e["priority"]) for e in out["endpoints"]] == [
        ("127.0.9.1", 0), ("127.0.9.2", 1), ("127.0.9.3", 2)]


def test_traffic_distribution_from_the_namespace() -> None:
    out = _explain_json(TD_CASE, "outbound|80||inherited.example.com", "--locality", "us-west/zone-2")
    assert out["mode"].endswith(f"forced by trafficDistribution PreferSameZone (annotation {TD_ANNOTATION}=PreferClose "
                                "on namespace near)")
    assert [(e["address"], e["priority"]) for e in out["endpoints"]] == [("127.0.9.12", 0), ("127.0.9.11", 1)]


def test_destination_rule_settings_win_over_traffic_distribution_and_say_so() -> None:
    disabled = _explain_json(TD_CASE, "outbound|80||disabled.example.com", "--locality", "us-west/zone-1")
    assert disabled["mode"] == ("off (the DestinationRule's localityLbSetting has enabled: false; the DestinationRule's "
                                f"localityLbSetting wins over annotation {TD_ANNOTATION}=PreferSameZone on the "
                                "ServiceEntry)")
    failover = _explain_json(TD_CASE, "outbound|80||dr-failover.example.com", "--locality", "us-west/zone-1")
    assert failover["mode"].startswith("off (no outlierDetection: failover does not apply; the DestinationRule's "
                                       "localityLbSetting wins over annotation")
    for out in (disabled, failover):
        assert {e["priority"] for e in out["endpoints"]} == {0}
    # A DestinationRule without localityLbSetting leaves the ServiceEntry's preference in force.
    pool = _explain_json(TD_CASE, "outbound|80||pool-only.example.com", "--locality", "us-west/zone-1")
    assert pool["destination_rule"] == "apps/pool-only" and "forced by trafficDistribution" in pool["mode"]


SERVING_TERMINATING = str(CASES / "endpoint-serving-terminating" / "input.yaml")
FALLBACK = "serving-terminating, sent as HEALTHY: no endpoint is ready (kube-proxy's fallback)"


def test_serving_terminating_fallback_is_explained() -> None:
    out = _explain_json(SERVING_TERMINATING, "outbound|80||all-terminating.apps.svc.cluster.local")
    rows = {e["address"]: (e["health"], e["sent"], e["rule"]) for e in out["endpoints"]}
    assert rows == {
        "127.0.10.1": ("DRAINING", True, f"every endpoint at priority 0; {FALLBACK}"),
        "127.0.10.2": ("DRAINING", True, f"every endpoint at priority 0; {FALLBACK}"),
        "127.0.10.3": ("UNHEALTHY", True, ("every endpoint at priority 0; not ready, sent as UNHEALTHY: no traffic "
                                           "(panic mode is off)")),
    }
    mixed = _explain_json(SERVING_TERMINATING, "outbound|80||mixed.apps.svc.cluster.local")
    assert [e["rule"] for e in mixed["endpoints"]][1] == (
        "every endpoint at priority 0; serving-terminating, sent as DRAINING: no traffic while an endpoint is ready")
    # Placed per proxy too (the fallback endpoints keep their failoverPriority ranks).
    zonal = _explain_json(SERVING_TERMINATING, "outbound|80||zonal.apps.svc.cluster.local", "--locality",
                          "region-1/zone-1")
    assert [(e["address"], e["priority"], e["rule"].endswith(FALLBACK)) for e in zonal["endpoints"]] == [
        ("127.0.10.11", 0, True), ("127.0.10.12", 1, True)]
