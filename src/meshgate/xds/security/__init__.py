"""Request security as Envoy HTTP filters, one module per filter: rbac.py (authorization),
jwt.py (jwt_authn), basic_auth.py, api_key.py (api_key_auth), ext_authz.py. Each gives the
connection manager's entry for the routes that need it and a route's per-filter config; they are
registered in xds/http_filters.py."""

from __future__ import annotations

from envoy.config.route.v3 import route_components_pb2 as rc
from google.protobuf.message import Message

from ..common import to_any


def enabled(config: Message) -> rc.FilterConfig:
    """A route's config for a filter the connection manager carries disabled: enabled there."""
    return rc.FilterConfig(config=to_any(config))
