"""Route-level configs of optional HTTP filters: session persistence (Envoy's stateful session
filter) and CORS (its CORS filter). Registered in xds/http_filters.py."""

from __future__ import annotations

from envoy.config.core.v3 import extension_pb2
from envoy.extensions.filters.http.cors.v3 import cors_pb2
from envoy.extensions.filters.http.stateful_session.v3 import stateful_session_pb2
from envoy.extensions.http.stateful_session.cookie.v3 import cookie_pb2 as cookie_state_pb2
from envoy.extensions.http.stateful_session.header.v3 import header_pb2 as header_state_pb2
from envoy.type.http.v3 import cookie_pb2

from .. import ir
from .common import to_any
from .matchers import string_match


def stateful_session(s: ir.StatefulSession) -> stateful_session_pb2.StatefulSessionPerRoute:
    """A route's session persistence: Envoy's stateful session with cookie or header state."""
    if s.kind == "header":
        state = extension_pb2.TypedExtensionConfig(
            name="envoy.http.stateful_session.header",
            typed_config=to_any(header_state_pb2.HeaderBasedSessionState(name=s.name)))
    else:
        cookie = cookie_pb2.Cookie(name=s.name, path=s.path)
        if s.ttl_s is not None:
            cookie.ttl.seconds = s.ttl_s  # Max-Age; unset, a session cookie
        state = extension_pb2.TypedExtensionConfig(
            name="envoy.http.stateful_session.cookie",
            typed_config=to_any(cookie_state_pb2.CookieBasedSessionState(cookie=cookie)))
    return stateful_session_pb2.StatefulSessionPerRoute(
        stateful_session=stateful_session_pb2.StatefulSession(session_state=state))


def cors_policy(c: ir.Cors) -> cors_pb2.CorsPolicy:
    """A route's CORS policy for Envoy's CORS filter (which answers preflights itself)."""
    out = cors_pb2.CorsPolicy(
        allow_origin_string_match=[string_match(o) for o in c.origins],
        allow_methods=", ".join(c.methods), allow_headers=", ".join(c.headers),
        expose_headers=", ".join(c.expose_headers), max_age=str(c.max_age_s))
    out.allow_credentials.value = c.credentials
    # A preflight from an origin the policy does not allow is answered here, without CORS
    # headers, not passed to the backend (upstream's HTTPRouteCORS expects no backend answer).
    out.forward_not_matching_preflights.value = False
    return out


