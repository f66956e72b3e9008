"""The HTTP connection manager's rate limit filter, pointing Envoy at the rate limit service.

One filter per connection manager, with the Gateway's domain (gateway_domain): the routes'
`rate_limits` (descriptors.route_rate_limits) say what to send, this filter where. It belongs
before the router. Envoy reaches meshgate's service through a cluster it already has (the xDS
cluster, which is HTTP/2 gRPC), so no new cluster or port is needed.
"""

from __future__ import annotations

from envoy.config.core.v3 import config_source_pb2, grpc_service_pb2
from envoy.config.ratelimit.v3 import rls_pb2 as rls_config_pb2
from envoy.extensions.filters.http.ratelimit.v3 import rate_limit_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from google.protobuf import any_pb2, duration_pb2

from ..naming import gateway_domain  # noqa: F401 - re-exported beside the filter it names

FILTER_NAME = "envoy.filters.http.ratelimit"
TIMEOUT_S = 1  # a slow service must not hold requests long: after this Envoy lets them through


def rate_limit_filter_config(domain: str, cluster: str) -> rate_limit_pb2.RateLimit:
    """The filter's config: ask the service on `cluster` (gRPC, API v3) about `domain`'s routes.

    As Envoy Gateway sets it: failure mode allow (the service down must not take the Gateway
    down with it), and the draft-03 X-RateLimit-Limit/Remaining/Reset headers on responses."""
    return rate_limit_pb2.RateLimit(
        domain=domain,
        timeout=duration_pb2.Duration(seconds=TIMEOUT_S),
        failure_mode_deny=False,
        enable_x_ratelimit_headers=rate_limit_pb2.RateLimit.DRAFT_VERSION_03,
        rate_limit_service=rls_config_pb2.RateLimitServiceConfig(
            grpc_service=grpc_service_pb2.GrpcService(
                envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(cluster_name=cluster)),
            transport_api_version=config_source_pb2.V3,
        ),
    )


def rate_limit_filter(domain: str, cluster: str) -> hcm.HttpFilter:
    """The `envoy.filters.http.ratelimit` HTTP filter (rate_limit_filter_config) for a connection
    manager's filter list, ahead of the router."""
    typed = any_pb2.Any()
    typed.Pack(rate_limit_filter_config(domain, cluster))
    return hcm.HttpFilter(name=FILTER_NAME, typed_config=typed)
