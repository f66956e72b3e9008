"""Envoy's own statistics: which it keeps, and where Prometheus reads them.

Envoy keeps about a hundred statistics per cluster; at thousands of routes that is millions of
series (gateway-api-bench counted 0.85-1.7 M for Envoy Gateway and kgateway at 5,000 routes,
557 for Istio, which keeps only an inclusion list). meshgate keeps Istio's way: the bootstrap's
stats matcher instantiates the process-wide statistics (server, cluster manager, listener
manager, control plane, runtime) and those per listener and per connection manager (as many as
the Gateway has listeners), and of the clusters only `meshgate-xds`. Per-cluster statistics are
opted into per Gateway with the infrastructure annotation `meshgate.io/stats-inclusion-prefixes`
(comma-separated stat name prefixes, as Istio's `sidecar.istio.io/statsInclusionPrefixes`, e.g.
`cluster.outbound|80||web.shop.svc.cluster.local.`; `*` keeps every statistic).

A provisioned proxy serves `/stats/prometheus` on port 19001 of every address (Envoy Gateway's
port; envoy/admin_paths.py), `meshgate run` on its debug port at `/metrics/envoy` for all its
Envoys (runtime/envoy_metrics.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from envoy.config.metrics.v3 import stats_pb2
from envoy.type.matcher.v3 import string_pb2

STATS_ANNOTATION = "meshgate.io/stats-inclusion-prefixes"
PROMETHEUS_PORT = 19001
PROMETHEUS_PATH = "/stats/prometheus"
PROMETHEUS_LISTENER = "meshgate-prometheus"
ALL_STATS = "*"

# Process-wide statistics and those per listener or connection manager: bounded by the config's
# listeners, never by its routes or clusters.
DEFAULT_PREFIXES = (
    "server.", "cluster_manager.", "listener_manager.", "control_plane.", "runtime.", "main_thread.",
    "workers.", "http.", "listener.", "tcp.", "udp.", "tls_inspector.", "http1.", "http2.", "http3.", "tracing.",
    "cluster.meshgate-xds.",
)



def inclusion_prefixes(annotations: Mapping[str, str]) -> tuple[str, ...] | None:
    """The stat name prefixes a proxy keeps: the defaults and those its Gateway's infrastructure
    annotation adds; None when it keeps every statistic (`*`)."""
    extra = [p.strip() for p in annotations.get(STATS_ANNOTATION, "").split(",") if p.strip()]
    if ALL_STATS in extra:
        return None
    return DEFAULT_PREFIXES + tuple(p for p in extra if p not in DEFAULT_PREFIXES)


def stats_config(prefixes: tuple[str, ...] | None) -> stats_pb2.StatsConfig:
    """Envoy's stats settings: only statistics whose names start with one of `prefixes` are
    instantiated (None: all)."""
    config = stats_pb2.StatsConfig()
    if prefixes is not None:
        config.stats_matcher.inclusion_list.patterns.extend(string_pb2.StringMatcher(prefix=p) for p in prefixes)
    return config
