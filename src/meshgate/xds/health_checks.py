"""Active health checks (ir_clusters.ActiveHealthCheck) as Envoy's cluster health_checks.

Envoy probes each endpoint of the cluster (EDS or DNS alike: Service, ServiceEntry and Hostname
backends), and load-balances only over those that pass; with locality priorities, a priority whose
endpoints fail its probes hands its traffic to the next (per proxy: each proxy probes its own
priorities). An endpoint sent as unhealthy stays unhealthy whatever its probes say (EDS health
wins over active checks in Envoy's default), so kube-proxy's readiness still rules.

Envoy probes at its `no_traffic_interval` (60s unless set) until it has counted a connection
on the cluster, and it counts with the cluster's `upstream_cx_total` statistic, which meshgate's
default stats inclusion list does not instantiate (envoy/stats.py): without per-cluster stats
the probes would stay 60s apart for good, and a stopped endpoint would keep its traffic for up
to a minute. The check's interval is therefore also its no-traffic interval: probes are as
often as the policy says, used or not.
"""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2, health_check_pb2
from envoy.type.v3 import range_pb2

from ..ir_clusters import ActiveHealthCheck
from .common import duration_ms


def _payload(data: bytes) -> health_check_pb2.HealthCheck.Payload:
    return health_check_pb2.HealthCheck.Payload(text=data.hex().upper())


def health_check(hc: ActiveHealthCheck, authority: str) -> health_check_pb2.HealthCheck:
    """The Envoy health check; `authority` is the Host of HTTP probes when the check names none."""
    out = health_check_pb2.HealthCheck(
        timeout=duration_ms(hc.timeout_ms), interval=duration_ms(hc.interval_ms),
        no_traffic_interval=duration_ms(hc.interval_ms))
    out.unhealthy_threshold.value = hc.unhealthy_threshold
    out.healthy_threshold.value = hc.healthy_threshold
    if hc.type == "HTTP":
        http = out.http_health_check
        http.path = hc.path
        http.host = hc.host or authority
        if hc.method != "GET":
            http.method = base_pb2.RequestMethod.Value(hc.method)
        http.expected_statuses.extend(range_pb2.Int64Range(start=s, end=s + 1) for s in hc.expected_statuses)
        if hc.expected_response is not None:
            http.receive.append(_payload(hc.expected_response))
    elif hc.type == "TCP":
        tcp = out.tcp_health_check
        if hc.send is not None:
            tcp.send.CopyFrom(_payload(hc.send))
        if hc.expected_response is not None:
            tcp.receive.append(_payload(hc.expected_response))
    else:
        out.grpc_health_check.service_name = hc.grpc_service
        out.grpc_health_check.authority = hc.host or authority
    return out
