"""Traffic distribution and the locality setting in force, as Istio decides them.

The tables re-express Istio's tests: TestGetTrafficDistribution (pilot/pkg/model/service_test.go),
TestConvertServicesNamespaceTrafficDistribution (pilot/pkg/serviceregistry/serviceentry/
conversion_test.go) and TestGetEffectiveLbSetting (pilot/pkg/networking/core/loadbalancer/
loadbalancer_test.go; meshgate has no zone-aware setting and its mesh default is Istio's:
locality load balancing on, no failover rules).
"""

from __future__ import annotations

import pytest

from meshgate.discovery.locality import (
    HOSTNAME_LABEL,
    NETWORK_LABEL,
    EffectiveSetting,
    LocalitySetting,
    effective_setting,
)
from meshgate.discovery.model import REGION_LABEL, SUBZONE_LABEL, ZONE_LABEL
from meshgate.discovery.service_entries import service_entry_models
from meshgate.discovery.services import service_model
from meshgate.discovery.traffic_distribution import ANNOTATION, traffic_distribution
from meshgate.resources.loader import load_text

SAME_ZONE, SAME_NODE = "PreferSameZone", "PreferSameNode"


def td(value: str) -> dict[str, str]:
    return {ANNOTATION: value}


@pytest.mark.parametrize(
    ("name", "spec", "own", "ns", "want"),
    [
        # TestGetTrafficDistribution
        ("spec value takes precedence", "PreferClose", td("PreferSameNode"), td("Any"), SAME_ZONE),
        ("service annotation takes precedence over namespace", None, td("PreferSameNode"), td("PreferClose"),
         SAME_NODE),
        ("namespace annotation used when service has none", None, {}, td("PreferClose"), SAME_ZONE),
        ("namespace annotation with PreferSameNode", None, {}, td("PreferSameNode"), SAME_NODE),
        ("defaults to Any when nothing set", None, {}, {}, None),
        ("case insensitive namespace annotation", None, {}, td("preferclose"), SAME_ZONE),
        # The rest of GetTrafficDistribution's branches.
        ("spec PreferSameZone", "PreferSameZone", {}, {}, SAME_ZONE),
        ("spec PreferSameNode", "PreferSameNode", {}, {}, SAME_NODE),
        ("an unknown spec value is passed over", "Nearby", td("PreferSameNode"), {}, SAME_NODE),
        ("case insensitive service annotation", None, td("PREFERSAMEZONE"), {}, SAME_ZONE),
        ("an unknown service annotation means none, the namespace is not asked", None, td("Any"),
         td("PreferClose"), None),
        ("an empty service annotation counts as absent", None, td(""), td("PreferSameNode"), SAME_NODE),
        ("an unknown namespace annotation means none", None, {}, td("Nearby"), None),
    ],
)
def test_traffic_distribution(name: str, spec: str | None, own: dict[str, str], ns: dict[str, str],
                              want: str | None) -> None:
    assert traffic_distribution("Service", spec, own, "apps", ns).preference == want


def test_traffic_distribution_says_where_it_was_read() -> None:
    assert traffic_distribution("Service", "PreferClose", {}, "apps", {}).source == \
        "spec.trafficDistribution PreferClose"
    assert traffic_distribution("ServiceEntry", None, td("PreferClose"), "apps", {}).source == \
        f"annotation {ANNOTATION}=PreferClose on the ServiceEntry"
    assert traffic_distribution("ServiceEntry", None, {}, "apps", td("PreferSameNode")).source == \
        f"annotation {ANNOTATION}=PreferSameNode on namespace apps"
    assert traffic_distribution("ServiceEntry", None, td("Any"), "apps", {}).source == \
        f"annotation {ANNOTATION}=Any on the ServiceEntry (not a known value: none)"


SE = """apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: test-se, namespace: test-ns%s}
spec:
  hosts: [test.example.com]
  addresses: [1.2.3.4]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
"""


@pytest.mark.parametrize(
    ("name", "annotated", "ns", "want"),
    [
        # TestConvertServicesNamespaceTrafficDistribution
        ("no annotations", False, {}, None),
        ("namespace annotation inherited", False, td("PreferClose"), SAME_ZONE),
        ("serviceentry annotation overrides namespace", True, td("PreferClose"), SAME_NODE),
    ],
)
def test_service_entry_traffic_distribution(name: str, annotated: bool, ns: dict[str, str], want: str | None) -> None:
    text = SE % (", annotations: {networking.istio.io/traffic-distribution: PreferSameNode}" if annotated else "")
    (se,) = load_text(text, "se.yaml", "2026-01-01T00:00:00Z").objects
    (model,) = service_entry_models(se, ns)
    assert model.traffic_distribution == want


def test_service_spec_wins_over_its_annotation() -> None:
    """meshgate read the annotation first; Istio reads spec.trafficDistribution first."""
    text = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps, annotations: {networking.istio.io/traffic-distribution: PreferSameNode}}
spec:
  trafficDistribution: PreferClose
  ports: [{name: http, port: 80}]
"""
    (svc,) = load_text(text, "svc.yaml", "2026-01-01T00:00:00Z").objects
    model = service_model(svc, {})
    assert (model.traffic_distribution, model.traffic_distribution_source) == (
        SAME_ZONE, "spec.trafficDistribution PreferClose")


FAILOVER = LocalitySetting(failover=(("r1", "r2"),))
SAME_ZONE_SETTING = LocalitySetting(enabled=True, failover_priority=(NETWORK_LABEL, REGION_LABEL, ZONE_LABEL))
SAME_NODE_SETTING = LocalitySetting(enabled=True, failover_priority=(
    NETWORK_LABEL, REGION_LABEL, ZONE_LABEL, SUBZONE_LABEL, HOSTNAME_LABEL))


@pytest.mark.parametrize(
    ("name", "rule", "outlier", "distribution", "want_setting", "want_applies", "want_forced"),
    [
        # TestGetEffectiveLbSetting, the locality cases (the mesh default is Istio's: {}).
        ("mesh locality only", None, True, None, LocalitySetting(), True, False),
        ("dr locality only", LocalitySetting(), True, None, LocalitySetting(), True, False),
        ("dr locality only override", LocalitySetting(enabled=True), True, None,
         LocalitySetting(enabled=True), True, False),
        ("dr locality wins over mesh locality", FAILOVER, True, None, FAILOVER, True, False),
        ("prefer same zone service over mesh locality", None, False, SAME_ZONE, SAME_ZONE_SETTING, True, True),
        ("prefer same node service over mesh locality", None, False, SAME_NODE, SAME_NODE_SETTING, True, True),
        ("dr locality disabled overrides mesh locality enabled", LocalitySetting(enabled=False), True, None,
         None, False, False),
        ("dr locality wins over service traffic distribution", FAILOVER, False, SAME_ZONE, FAILOVER, False, False),
        # What follows from them: failover needs outlier detection unless the service forces it.
        ("mesh default without outlier detection: off", None, False, None, None, False, False),
        ("dr locality without outlier detection does not apply", FAILOVER, False, None, FAILOVER, False, False),
        ("dr enabled: false turns off what the service asks", LocalitySetting(enabled=False), True, SAME_NODE,
         None, False, False),
        ("traffic distribution with outlier detection is still forced", None, True, SAME_ZONE,
         SAME_ZONE_SETTING, True, True),
    ],
)
def test_effective_setting(name: str, rule: LocalitySetting | None, outlier: bool, distribution: str | None,
                           want_setting: LocalitySetting | None, want_applies: bool, want_forced: bool) -> None:
    got = effective_setting(rule, outlier, distribution)
    assert isinstance(got, EffectiveSetting)
    assert (got.setting, got.applies, got.forced) == (want_setting, want_applies, want_forced)
