"""API key authentication (ir_security.ApiKeyAuth) as Envoy's api_key_auth filter: carried
disabled by the connection manager, enabled by each route with its clients and key sources
(ApiKeyAuthPerRoute)."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.extensions.filters.http.api_key_auth.v3 import api_key_auth_pb2 as api_key
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm

from ... import ir
from ... import ir_security as sec
from ..common import to_any
from . import enabled

API_KEY_FILTER = "envoy.filters.http.api_key_auth"


def _sources(auth: sec.ApiKeyAuth) -> list[api_key.KeySource]:
    return [api_key.KeySource(header=s.header, query=s.query, cookie=s.cookie) for s in auth.sources]


def _forwarding(auth: sec.ApiKeyAuth) -> api_key.Forwarding | None:
    if not auth.forward_client_id_header and not auth.strip_key:
        return None
    return api_key.Forwarding(header=auth.forward_client_id_header, hide_credentials=auth.strip_key)


def api_key_entries(routes: Sequence[ir.Route]) -> list[hcm.HttpFilter]:
    """The connection manager's api_key_auth filter (disabled; routes enable it)."""
    first = routes[0].security.api_key  # type: ignore[union-attr]
    assert first is not None
    config = api_key.ApiKeyAuth(credentials=[api_key.Credential(key=k, client=c) for c, k in first.clients],
                                key_sources=_sources(first))
    return [hcm.HttpFilter(name=API_KEY_FILTER, typed_config=to_any(config), disabled=True)]


def api_key_per_route(r: ir.Route) -> object:
    """A route's clients and where their keys are read."""
    assert r.security is not None and r.security.api_key is not None
    auth = r.security.api_key
    out = api_key.ApiKeyAuthPerRoute(credentials=[api_key.Credential(key=k, client=c) for c, k in auth.clients],
                                     key_sources=_sources(auth))
    fwd = _forwarding(auth)
    if fwd is not None:
        out.forwarding.CopyFrom(fwd)
    return enabled(out)
