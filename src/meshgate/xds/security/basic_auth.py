"""Basic authentication (ir_security.BasicAuth) as Envoy's basic_auth filter: one filter per
policy (`envoy.filters.http.basic_auth/<name>`: its users and the header naming the user to the
backend), carried disabled by the connection manager and enabled by the routes it guards, as
Envoy Gateway does."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import base_pb2
from envoy.extensions.filters.http.basic_auth.v3 import basic_auth_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from google.protobuf.message import Message

from ... import ir
from ... import ir_security as sec
from ..common import to_any
from . import enabled

BASIC_AUTH_FILTER = "envoy.filters.http.basic_auth"


def filter_name(auth: sec.BasicAuth) -> str:
    """The filter of one policy's users."""
    return f"{BASIC_AUTH_FILTER}/{auth.name}" if auth.name else BASIC_AUTH_FILTER


def basic_auth_entries(routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """One disabled filter per policy the routes use, in name order."""
    auths: dict[str, sec.BasicAuth] = {}
    for r in routes:
        auth = r.security.basic_auth  # type: ignore[union-attr]
        assert auth is not None
        auths.setdefault(filter_name(auth), auth)
    return [hcm.HttpFilter(name=name, disabled=True, typed_config=to_any(basic_auth_pb2.BasicAuth(
        users=base_pb2.DataSource(inline_bytes=auth.htpasswd), forward_username_header=auth.forward_username_header)))
        for name, auth in sorted(auths.items())]


def basic_auth_per_route(r: ir.Route) -> list[tuple[str, Message]]:
    """A route enables its policy's filter (with its users)."""
    assert r.security is not None and r.security.basic_auth is not None
    auth = r.security.basic_auth
    return [(filter_name(auth), enabled(basic_auth_pb2.BasicAuthPerRoute(
        users=base_pb2.DataSource(inline_bytes=auth.htpasswd))))]
