"""The HTTP connection manager's rate limit filter (ratelimit/filter.py)."""

from __future__ import annotations

from envoy.config.core.v3 import config_source_pb2
from envoy.extensions.filters.http.ratelimit.v3 import rate_limit_pb2

from meshgate.ratelimit.filter import FILTER_NAME, gateway_domain, rate_limit_filter, rate_limit_filter_config


def test_filter_points_at_the_cluster_with_the_gateways_domain() -> None:
    f = rate_limit_filter(gateway_domain("ns", "gw"), "meshgate-xds")
    assert f.name == FILTER_NAME == "envoy.filters.http.ratelimit"
    config = rate_limit_pb2.RateLimit()
    assert f.typed_config.Unpack(config)
    assert config == rate_limit_filter_config("ns/gw", "meshgate-xds")
    assert config.domain == "ns/gw"
    assert config.rate_limit_service.grpc_service.envoy_grpc.cluster_name == "meshgate-xds"
    assert config.rate_limit_service.transport_api_version == config_source_pb2.V3
    assert config.failure_mode_deny is False
    assert config.timeout.seconds == 1
    assert config.enable_x_ratelimit_headers == rate_limit_pb2.RateLimit.DRAFT_VERSION_03
