"""TLSRouteHostnameIntersection (conformance/tests/tlsroute-hostname-intersection.go): TLSRoutes should attach to listeners only if they have intersecting hostnames, and should accept requests only for the intersecting hostnames."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..stream_route_checks import tls_routes_accepted
from ..suite import Checks, Condition, ConformanceTest

# The client trusts the tls-backend Pods' certificate itself (a leaf signed by the suite's CA;
# a Secret the harness made: `expect` fails when there is none, as upstream's GetTLSSecret).
CERT = Key(INFRA, "tls-checks-certificate")
RESOLVED = Condition("ResolvedRefs", "True", "ResolvedRefs")
ABC = Expect(Request(host="abc.example.com", path="/"), backend="tls-backend", namespace=INFRA)
OTHER = Expect(Request(host="other.example.com", path="/"), backend="tls-backend-2", namespace=INFRA)

# (Gateway, its routes, whether other.example.com reaches tls-backend-2, the SNI no route serves)
CASES = (
    ("gw-tlsroute-exact-hostname-x-1", ("tlsroute-more-specific-wc-hostname-x-1",), False, "non.matching.com"),
    ("gw-tlsroute-more-specific-wc-hostname-x-2",
     ("tlsroute-exact-hostname-x-2", "tlsroute-less-specific-wc-hostname-x-2"), True, "non.matching.com"),
    ("gw-tlsroute-less-specific-wc-hostname-x-3",
     ("tlsroute-exact-hostname-x-3", "tlsroute-more-specific-wc-hostname-x-3"), True, "non.matching.com"),
    ("gw-tlsroute-empty-hostname-x-4",
     ("tlsroute-exact-hostname-x-4", "tlsroute-less-specific-wc-hostname-x-4"), True, "non.matching.org"),
)


def body(t: Checks) -> None:
    for gateway, routes, other, rejected in CASES:
        gw = GatewayRef(INFRA, gateway)
        keys = [Key(INFRA, r) for r in routes]
        address, _ = tls_routes_accepted(t, gw, *keys)
        for route in keys:
            t.route_condition(route, gw.key, RESOLVED, route_kind="TLSRoute")
        t.expect(address, ABC, tls_cert=CERT, server_name="abc.example.com")
        if other:
            t.expect(address, OTHER, tls_cert=CERT, server_name="other.example.com")
        t.expect_tls_rejected(address, rejected)


TEST = ConformanceTest(
    short_name="TLSRouteHostnameIntersection",
    description="TLSRoutes should attach to listeners only if they have intersecting hostnames, and should accept requests only for the intersecting hostnames",
    manifests=("tlsroute-hostname-intersection.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-hostname-intersection.go @ 4564255ac2c3",
)
