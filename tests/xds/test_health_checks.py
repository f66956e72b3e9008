"""Active health checks in Envoy's terms (xds/health_checks.py)."""

from __future__ import annotations

from meshgate.ir_clusters import ActiveHealthCheck
from meshgate.xds.health_checks import health_check


def test_probes_at_the_interval_before_any_traffic() -> None:
    # Envoy probes at no_traffic_interval (60s when unset) until the cluster's upstream_cx_total
    # statistic has counted a connection; meshgate's default stats inclusion list does not keep
    # per-cluster statistics, so without this a stopped endpoint kept its traffic for a minute
    # (found by tests/e2e/test_backend_traffic_policy.py).
    hc = health_check(ActiveHealthCheck("HTTP", timeout_ms=150, interval_ms=200, unhealthy_threshold=1,
                                        path="/health"), "payments.example.com")
    assert hc.interval.ToMilliseconds() == 200
    assert hc.no_traffic_interval.ToMilliseconds() == 200
    assert not hc.HasField("no_traffic_healthy_interval")  # Envoy's default: no_traffic_interval
