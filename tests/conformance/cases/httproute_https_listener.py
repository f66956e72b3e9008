"""HTTPRouteHTTPSListener (conformance/tests/httproute-https-listener.go): routes attach to a Gateway's HTTPS
listeners; TLS requests are routed by Host/SNI, with a 404 for a host no route serves."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "httproute-https-test")
ROUTE_NO_HOST = Key(INFRA, "httproute-https-test-no-hostname")
GATEWAY = GatewayRef(INFRA, "same-namespace-with-https-listener")
CERT = Key(INFRA, "tls-validity-checks-certificate")

CASES = (
    Expect(Request(host="example.org", path="/"), response=Response(status=200), backend="infra-backend-v1"),
    Expect(Request(host="unknown-example.org", path="/"), response=Response(status=404)),
    Expect(Request(host="second-example.org", path="/"), response=Response(status=200), backend="infra-backend-v2"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE, ROUTE_NO_HOST)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    t.route_resolved_refs(ROUTE_NO_HOST, GATEWAY.key)
    expect_all(t, address, CASES, tls_cert=CERT)


TEST = ConformanceTest(
    short_name="HTTPRouteHTTPSListener",
    description="HTTPRoute attaches to a Gateway's HTTPS listener in the same namespace",
    manifests=("httproute-https-listener.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-https-listener.go @ d41c161cc8d37aedeac4039a7870fc680243f0bc",
)
