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

Per-route statistics (`vhost.<virtual host>.route.<stat_prefix>.`) are kept for every route that
has a stat_prefix, which only a BackendTrafficPolicy's `telemetry.metrics.routeStatName` gives
it: the opt-in bounds them. Their tags need regexes of meshgate's own (VIRTUAL_HOST_TAG_REGEX),
so the tags are listed explicitly (STATS_TAGS).

A provisioned proxy serves `/stats/prometheus` on port 19001 of every address (Envoy Gateway's
port; envoy/admin_paths.py), `meshgate run` on its debug port at `/metrics/envoy` for all its
Envoys (runtime/envoy_metrics.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from envoy.config.metrics.v3 import stats_pb2
from envoy.type.matcher.v3 import string_pb2
from google.protobuf import wrappers_pb2

STATS_ANNOTATION = "meshgate.io/stats-inclusion-prefixes"
PROMETHEUS_PORT = 19001
PROMETHEUS_PATH = "/stats/prometheus"
PROMETHEUS_LISTENER = "meshgate-prometheus"
ALL_STATS = "*"

# Process-wide statistics and those per listener or connection manager: bounded by the config's
# listeners, never by its routes or clusters. `vhost.`: route statistics, which exist only for
# routes with a stat_prefix (a BackendTrafficPolicy's routeStatName), so the opt-in bounds them.
DEFAULT_PREFIXES = (
    "server.", "cluster_manager.", "listener_manager.", "control_plane.", "runtime.", "main_thread.",
    "workers.", "http.", "listener.", "tcp.", "udp.", "tls_inspector.", "http1.", "http2.", "http3.", "tracing.",
    "cluster.meshgate-xds.", "vhost.",
)

# Envoy's default tag extractors for the virtual host and the route take one dot-separated token,
# but meshgate's virtual host names hold dots and slashes (`http/shop.example.com`):
# `vhost.http/shop.example.com.route.httproute/default/web.upstream_rq_200` would be tagged
# envoy_virtual_host="http/shop" and named envoy_vhost_example_com_route_... . These take the
# virtual host up to the last `.route.` and the route's stat prefix (dots made underscores, one
# token: gateway/policies/backend_traffic.route_stat_name) up to the statistic's own name.
VIRTUAL_HOST_TAG_REGEX = r"^vhost\.((.+)\.)route\.[^.]+\.[^.]+$"
ROUTE_TAG_REGEX = r"^vhost\..+\.route\.(([^.]+)\.)[^.]+$"
# A custom tag of a default tag's name does not replace the default one (Envoy applies both), so
# the defaults are turned off (use_all_default_tags: false) and listed here by name, which keeps
# Envoy's own regex for each; every name must be one Envoy 1.40 knows, or it refuses the
# bootstrap. Only envoy.virtual_host and envoy.route get meshgate's regexes.
DEFAULT_TAG_NAMES = (
    "cipher_suite", "envoy.clientssl_prefix", "envoy.cluster_name", "envoy.connection_limit_prefix",
    "envoy.dns_filter_prefix", "envoy.dynamo_operation", "envoy.dynamo_partition_id", "envoy.dynamo_table",
    "envoy.ext_authz_prefix", "envoy.fault_downstream_cluster", "envoy.google_grpc_client_prefix",
    "envoy.grpc_bridge_method", "envoy.grpc_bridge_service", "envoy.health_check_name",
    "envoy.http_conn_manager_prefix", "envoy.http_user_agent", "envoy.listener_address",
    "envoy.local_http_ratelimit_prefix", "envoy.local_listener_ratelimit_prefix",
    "envoy.local_network_ratelimit_prefix", "envoy.mongo_callsite", "envoy.mongo_collection", "envoy.mongo_prefix",
    "envoy.proxy_protocol_prefix", "envoy.proxy_protocol_version", "envoy.ratelimit_prefix",
    "envoy.rbac_http_prefix", "envoy.rbac_policy_name", "envoy.rbac_prefix", "envoy.rds_route_config",
    "envoy.redis_prefix", "envoy.response_code", "envoy.response_code_class", "envoy.scoped_rds_config",
    "envoy.ssl_cipher", "envoy.ssl_sigalg", "envoy.ssl_version", "envoy.tcp_prefix", "envoy.thrift_prefix",
    "envoy.tls_certificate", "envoy.udp_prefix", "envoy.virtual_cluster", "envoy.worker_id",
    "envoy.xds_resource_name",
)
STATS_TAGS: tuple[tuple[str, str], ...] = (
    *((name, "") for name in DEFAULT_TAG_NAMES),
    ("envoy.virtual_host", VIRTUAL_HOST_TAG_REGEX),
    ("envoy.route", ROUTE_TAG_REGEX),
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
    instantiated (None: all); the tags (STATS_TAGS) whichever they are."""
    config = stats_pb2.StatsConfig(use_all_default_tags=wrappers_pb2.BoolValue(value=False))
    for name, regex in STATS_TAGS:
        config.stats_tags.append(stats_pb2.TagSpecifier(tag_name=name, regex=regex) if regex
                                 else stats_pb2.TagSpecifier(tag_name=name))
    if prefixes is not None:
        config.stats_matcher.inclusion_list.patterns.extend(string_pb2.StringMatcher(prefix=p) for p in prefixes)
    return config
