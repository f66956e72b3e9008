"""Basic authentication (ir_security.BasicAuth) as Envoy's basic_auth filter: the connection
manager carries it disabled (with the first route's users, as its config must name some), and
each route that needs it enables it with its own users (BasicAuthPerRoute)."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import base_pb2
from envoy.extensions.filters.http.basic_auth.v3 import basic_auth_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm

from ... import ir
from ..common import to_any
from . import enabled

BASIC_AUTH_FILTER = "envoy.filters.http.basic_auth"


def basic_auth_entries(routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """The connection manager's basic_auth filter (disabled; routes enable it)."""
    first = routes[0].security.basic_auth  # type: ignore[union-attr]
    assert first is not None
    config = basic_auth_pb2.BasicAuth(users=base_pb2.DataSource(inline_bytes=first.htpasswd),
                                      forward_username_header=first.forward_username_header)
    return [hcm.HttpFilter(name=BASIC_AUTH_FILTER, typed_config=to_any(config), disabled=True)]


def basic_auth_per_route(r: ir.Route) -> object:
    """A route's users."""
    assert r.security is not None and r.security.basic_auth is not None
    return enabled(basic_auth_pb2.BasicAuthPerRoute(users=base_pb2.DataSource(
        inline_bytes=r.security.basic_auth.htpasswd)))
