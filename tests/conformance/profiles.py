"""Upstream's conformance profiles and the feature sets they are made of, as data.

From kubernetes-sigs/gateway-api 4564255ac2c3: `conformance/utils/suite/profiles.go` (which sets
each profile is made of) and `pkg/features/*.go` (the sets). A test belongs to every profile whose
core and extended features cover the features it needs, and is core there when they are all core.
"""

from __future__ import annotations

from collections.abc import Iterable

from .suite import ConformanceTest

GATEWAY_EXTENDED = frozenset({
    "GatewayAddressEmpty", "GatewayBackendClientCertificate", "GatewayFrontendClientCertificateValidation",
    "GatewayFrontendClientCertificateValidationInsecureFallback", "GatewayHTTPListenerIsolation",
    "GatewayHTTPSListenerDetectMisdirectedRequests", "GatewayInfrastructurePropagation", "GatewayPort8080",
    "GatewayStaticAddresses", "ListenerSet",
})
HTTPROUTE_EXTENDED = frozenset({
    "HTTPRoute303RedirectStatusCode", "HTTPRoute307RedirectStatusCode", "HTTPRoute308RedirectStatusCode",
    "HTTPRouteBackendProtocolH2C", "HTTPRouteBackendProtocolWebSocket", "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteBackendRequestRedirect", "HTTPRouteBackendTimeout", "HTTPRouteBackendURLRewrite", "HTTPRouteCORS",
    "HTTPRouteDestinationPortMatching", "HTTPRouteHostRewrite", "HTTPRouteMethodMatching", "HTTPRouteNamedRouteRule",
    "HTTPRouteParentRefPort", "HTTPRoutePathRedirect", "HTTPRoutePathRewrite", "HTTPRoutePortRedirect",
    "HTTPRouteQueryParamMatching", "HTTPRouteRequestMirror", "HTTPRouteRequestMultipleMirrors",
    "HTTPRouteRequestPercentageMirror", "HTTPRouteRequestTimeout", "HTTPRouteResponseHeaderModification",
    "HTTPRouteRetry", "HTTPRouteRetryBackendTimeout", "HTTPRouteRetryConnectionError", "HTTPRouteSchemeRedirect",
})
BACKEND_TLS_POLICY = frozenset({"BackendTLSPolicy", "BackendTLSPolicySANValidation"})  # its core and extended sets
TLSROUTE_EXTENDED = frozenset({"TLSRouteModeMixed", "TLSRouteModeTerminate"})
TCPROUTE_EXTENDED = frozenset({"TCPRoute"})  # upstream lists TCPRoute itself as its extended set
UDPROUTE = frozenset({"UDPRoute"})
MESH_EXTENDED = frozenset({
    "MeshClusterIPMatching", "MeshConsumerRoute", "MeshHTTPRouteBackendRequestHeaderModification",
    "MeshHTTPRouteNamedRouteRule", "MeshHTTPRouteQueryParamMatching", "MeshHTTPRouteRedirectPath",
    "MeshHTTPRouteRedirectPort", "MeshHTTPRouteRewritePath", "MeshHTTPRouteSchemeRedirect",
})


class Profile:
    """One conformance profile: its core and extended features."""

    def __init__(self, name: str, core: Iterable[str], extended: Iterable[str]) -> None:
        self.name = name
        self.core = frozenset(core)
        self.extended = frozenset(extended) - self.core

    def has(self, test: ConformanceTest) -> bool:
        """Whether the test counts in this profile."""
        return all(f in self.core or f in self.extended for f in test.features)

    def is_core(self, test: ConformanceTest) -> bool:
        """Whether the test is one of the profile's core tests."""
        return all(f in self.core for f in test.features)


PROFILES = (
    Profile("GATEWAY-HTTP", {"Gateway", "ReferenceGrant", "HTTPRoute"},
            GATEWAY_EXTENDED | HTTPROUTE_EXTENDED | BACKEND_TLS_POLICY),
    Profile("GATEWAY-GRPC", {"Gateway", "ReferenceGrant", "GRPCRoute"}, GATEWAY_EXTENDED | BACKEND_TLS_POLICY),
    Profile("GATEWAY-TLS", {"Gateway", "ReferenceGrant", "TLSRoute"},
            GATEWAY_EXTENDED | TLSROUTE_EXTENDED | BACKEND_TLS_POLICY),
    Profile("GATEWAY-TCP", {"Gateway", "ReferenceGrant", "TCPRoute"}, GATEWAY_EXTENDED | TCPROUTE_EXTENDED),
    Profile("GATEWAY-UDP", {"Gateway", "ReferenceGrant", "UDPRoute"}, GATEWAY_EXTENDED | UDPROUTE),
    Profile("MESH-HTTP", {"Mesh", "HTTPRoute"}, MESH_EXTENDED),
    Profile("MESH-GRPC", {"Mesh", "GRPCRoute"}, MESH_EXTENDED),
)
