"""HTTPRouteRule.sessionPersistence (GEP-1619) with the CRD's schema and CEL rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import formats
from ..fields import Check, Fields


@dataclass(frozen=True, slots=True)
class SessionPersistence:
    """HTTPRouteRule.sessionPersistence (GEP-1619): a Cookie or Header session.

    name: the cookie's (None: to be generated) or the header's; path and lifetime_type are the
    cookie's; absolute_timeout_ms is None when unset."""

    type: str  # Cookie | Header
    name: str | None
    path: str
    lifetime_type: str  # Session | Permanent
    absolute_timeout_ms: int | None
    absolute_timeout: str | None  # as written, for messages


_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
# Fields of SessionPersistence in Gateway API up to v1.6.1, renamed or removed at the commit
# meshgate follows (4564255ac2c3): an API server with its CRDs would drop them silently.
_OLD_SESSION_FIELDS = {
    "sessionName": "renamed after Gateway API v1.6.1: use cookie.name (type Cookie) or header.name (type Header)",
    "cookieConfig": "renamed after Gateway API v1.6.1: use cookie (cookie.lifetimeType)",
    "idleTimeout": "removed in Gateway API v1.6.0 (no data plane can expire an idle session); "
                   "use absoluteTimeout",
}


def _token(what: str) -> Check:
    def check(value: str) -> str | None:
        if not _TOKEN.fullmatch(value):
            return f"must be a valid {what} (an HTTP token: letters, digits and !#$%&'*+-.^_`|~)"
        return None
    return check


def parse_session_persistence(f: Fields) -> SessionPersistence | None:
    """SessionPersistence with the CRD's schema and CEL rules (commit 4564255ac2c3)."""
    old = [key for key in _OLD_SESSION_FIELDS if f.has(key)]
    for key in old:
        f.error(key, _OLD_SESSION_FIELDS[key])
    if old:
        return None  # written for another version: its other rules would only add noise
    ok = True
    stype = f.str("type", default="Cookie", enum=("Cookie", "Header"))
    absolute = f.str("absoluteTimeout", check=formats.duration)
    name: str | None = None
    path: str | None = "/"
    lifetime: str | None = "Session"
    cf, hf = f.map("cookie"), f.map("header")
    if cf is not None:
        name = cf.str("name", min_len=1, max_len=256, check=_token("cookie name"))
        path = cf.str("path", default="/", max_len=1024)
        lifetime = cf.str("lifetimeType", default="Session", enum=("Permanent", "Session"))
        ok = ok and not (cf.has("name") and name is None) and path is not None and lifetime is not None
        if lifetime == "Permanent" and not f.has("absoluteTimeout"):
            f.error("absoluteTimeout", "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent")
            ok = False
    if hf is not None:
        name = hf.str("name", required=True, min_len=1, max_len=256, check=_token("header name"))
        ok = ok and name is not None
    if stype is None or (f.has("absoluteTimeout") and absolute is None):
        return None
    if f.has("cookie") and stype != "Cookie":
        f.error("cookie", "cookie must be nil if type is not Cookie")
        ok = False
    if stype == "Cookie" and not f.has("cookie"):
        f.error("cookie", "cookie must be specified for Cookie type")
        ok = False
    if f.has("header") and stype != "Header":
        f.error("header", "header must be nil if type is not Header")
        ok = False
    if stype == "Header" and not f.has("header"):
        f.error("header", "header must be specified for Header type")
        ok = False
    if not ok or path is None or lifetime is None:
        return None
    return SessionPersistence(stype, name, path, lifetime,
                              formats.duration_ms(absolute) if absolute else None, absolute)
