"""Which Gateway API features meshgate claims (the suite's SupportedFeatures), and why not the rest.

A test runs when every feature it needs is claimed; otherwise it is reported as skipped with the
reason given here, as the upstream suite skips tests of unsupported features.
"""

from __future__ import annotations

from .suite import ConformanceTest

SUPPORTED = frozenset({
    # Core (GATEWAY-HTTP profile)
    "Gateway", "HTTPRoute", "ReferenceGrant",
    # Extended
    "GatewayHTTPListenerIsolation",
    "GatewayPort8080",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteMethodMatching",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteHostRewrite",
    "HTTPRoutePathRewrite",
    "HTTPRoutePathRedirect",
    "HTTPRouteSchemeRedirect",
    "HTTPRoutePortRedirect",
    "HTTPRoute303RedirectStatusCode",
    "HTTPRoute307RedirectStatusCode",
    "HTTPRoute308RedirectStatusCode",
    "HTTPRouteRequestMirror",
    "HTTPRouteRequestMultipleMirrors",
    "HTTPRouteRequestTimeout",
    "HTTPRouteBackendTimeout",
    "HTTPRouteParentRefPort",
    "HTTPRouteNamedRouteRule",
})

# Features meshgate does not claim, each with the reason shown in the report.
UNSUPPORTED: dict[str, str] = {}


def skip_reason(test: ConformanceTest) -> str | None:
    """Why `test` does not run, or None when it does."""
    missing = [f for f in test.features if f not in SUPPORTED]
    if not missing:
        return None
    return "; ".join(f"{f}: {UNSUPPORTED.get(f, 'feature not supported')}" for f in missing)
