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
    "GatewayHTTPSListenerDetectMisdirectedRequests",
    "GatewayPort8080",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteMethodMatching",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteBackendRequestRedirect",  # on a rule's only backendRef
    "HTTPRouteBackendURLRewrite",  # on a rule's only backendRef
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
    "HTTPRouteRequestPercentageMirror",  # percent and fraction: Envoy's runtime_fraction on the mirror
    "HTTPRouteRequestTimeout",
    "HTTPRouteBackendTimeout",
    "HTTPRouteParentRefPort",
    "HTTPRouteDestinationPortMatching",  # a parentRef's port selects the listeners of that port
    "HTTPRouteNamedRouteRule",
    "HTTPRouteRetry",
    "HTTPRouteRetryConnectionError",
    "HTTPRouteRetryBackendTimeout",
    "HTTPRouteCORS",  # Envoy's CORS filter, a policy per route
    "HTTPRouteBackendProtocolH2C",  # h2c upstreams for appProtocol kubernetes.io/h2c
    "HTTPRouteBackendProtocolWebSocket",  # every HTTP listener allows the websocket upgrade
    # spec.tls.frontend: client certificates checked against ConfigMap CAs, per port or by default.
    "GatewayFrontendClientCertificateValidation",
    "GatewayFrontendClientCertificateValidationInsecureFallback",
    "GatewayStaticAddresses",  # an IPAddress of the pool or of this host; another is AddressNotUsable
    "GatewayAddressEmpty",  # an IPAddress without a value gets one from --address-pool
    # Labels and annotations on the managed Envoy (node metadata); the ServiceAccount and Service
    # of a cluster wait for the Kubernetes provisioner (the test reports them as not checked).
    "GatewayInfrastructurePropagation",
    "ListenerSet",  # listeners other objects add to a Gateway that allows them (GEP-1713)
    "GRPCRoute",  # GATEWAY-GRPC core: method and header matches, hostnames, weights
    "GRPCRouteNamedRouteRule",
    "GRPCRouteRequestHeaderModifier",
    "TLSRoute",  # TLS listeners: a filter chain per route, matched on the SNI hostnames it shares with its listener
    "TLSRouteModeTerminate",  # a Terminate listener ends TLS with its certificates and forwards the plain bytes
    "TLSRouteModeMixed",  # Terminate and Passthrough listeners on one port (their chains told apart by SNI)
    "TCPRoute",  # TCP listeners: the oldest attached route, weighted backends
    "UDPRoute",  # UDP listeners: the oldest attached route, weighted backends (one cluster of their endpoints)
    # Re-encryption to Services, CA from ConfigMaps or Secrets, hostname and SAN (DNS, URI) checks.
    "BackendTLSPolicy",
    "BackendTLSPolicySANValidation",
    # spec.tls.backend.clientCertificateRef: the certificate a Gateway presents on that re-encryption.
    "GatewayBackendClientCertificate",
    # Core (MESH-HTTP and, with GRPCRoute above, MESH-GRPC): HTTPRoutes and GRPCRoutes on Services,
    # served by meshgate's waypoints
    "Mesh",
    # Extended (MESH-HTTP)
    "MeshHTTPRouteBackendRequestHeaderModification",
    "MeshHTTPRouteQueryParamMatching",
    "MeshHTTPRouteRedirectPath",
    "MeshHTTPRouteRedirectPort",
    "MeshHTTPRouteSchemeRedirect",
    "MeshHTTPRouteRewritePath",
    "MeshHTTPRouteNamedRouteRule",
    "MeshClusterIPMatching",  # a waypoint's filter chains match the original destination, never the Host
    "MeshConsumerRoute",  # a consumer namespace's Pods get a filter chain of its routes (by Pod IP)
})

# Features meshgate does not claim, each with the reason shown in the report (checked with
# `python -m tests.conformance --all-features`: these tests then fail for the reasons given).
UNSUPPORTED: dict[str, str] = {
}

# Tests of claimed features that meshgate is known to fail, each with the reason (upstream's
# --skip-tests: reported as skipped, never as passed; `--all-features` runs them).
SKIPPED_TESTS: dict[str, str] = {
}


def skip_reason(test: ConformanceTest) -> str | None:
    """Why `test` does not run, or None when it does."""
    if test.short_name in SKIPPED_TESTS:
        return SKIPPED_TESTS[test.short_name]
    missing = [f for f in test.features if f not in SUPPORTED]
    if not missing:
        return None
    return "; ".join(f"{f}: {UNSUPPORTED.get(f, 'feature not supported')}" for f in missing)
