"""Federating managed Envoys' Prometheus statistics: every sample labelled with its Gateway, each
family declared once."""

from __future__ import annotations

from meshgate.runtime.envoy_metrics import federate

ONE = """# TYPE envoy_server_live gauge
envoy_server_live{} 1
# TYPE envoy_cluster_upstream_cx_total counter
envoy_cluster_upstream_cx_total{envoy_cluster_name="meshgate-xds"} 2
# TYPE envoy_server_initialization_time_ms histogram
envoy_server_initialization_time_ms_bucket{le="0.5"} 0
envoy_server_initialization_time_ms_sum{} 12
envoy_server_initialization_time_ms_count{} 1
"""
TWO = """# TYPE envoy_server_live gauge
envoy_server_live 1
"""


def test_samples_get_the_gateway_label_and_families_are_declared_once() -> None:
    out = federate({"b/gw": TWO, "a/gw": ONE}).splitlines()
    assert out.count("# TYPE envoy_server_live gauge") == 1
    live = out.index("# TYPE envoy_server_live gauge")
    assert out[live + 1:live + 3] == ['envoy_server_live{gateway="a/gw"} 1', 'envoy_server_live{gateway="b/gw"} 1']
    assert 'envoy_cluster_upstream_cx_total{gateway="a/gw",envoy_cluster_name="meshgate-xds"} 2' in out
    assert 'envoy_server_initialization_time_ms_bucket{gateway="a/gw",le="0.5"} 0' in out
    assert 'envoy_server_initialization_time_ms_sum{gateway="a/gw"} 12' in out


def test_nothing_to_federate_is_an_empty_exposition() -> None:
    assert federate({}) == ""
    assert federate({"a/gw": ""}) == ""
