"""GatewayHTTPListenerIsolation (conformance/tests/gateway-http-listener-isolation.go): a request is served
only by the routes of the most specific listener matching its host, first with hostnames only on the
listeners, then with intersecting hostnames on the routes as well."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

GATEWAY = GatewayRef(INFRA, "http-listener-isolation")
ROUTES = (
    Key(INFRA, "attaches-to-empty-hostname"),
    Key(INFRA, "attaches-to-wildcard-example-com"),
    Key(INFRA, "attaches-to-wildcard-foo-example-com"),
    Key(INFRA, "attaches-to-abc-foo-example-com"),
)

GATEWAY_INTERSECTION = GatewayRef(INFRA, "http-listener-isolation-with-hostname-intersection")
ROUTES_INTERSECTION = (
    Key(INFRA, "attaches-to-empty-hostname-with-hostname-intersection"),
    Key(INFRA, "attaches-to-wildcard-example-com-with-hostname-intersection"),
    Key(INFRA, "attaches-to-wildcard-foo-example-com-with-hostname-intersection"),
    Key(INFRA, "attaches-to-abc-foo-example-com-with-hostname-intersection"),
)

NOT_FOUND = Response(status=404)

# The same table runs against both Gateways.
CASES = (
    # Requests to the empty-hostname listener
    Expect(Request(host="bar.com", path="/empty-hostname"), backend="infra-backend-v1"),
    Expect(Request(host="bar.com", path="/wildcard-example-com"), response=NOT_FOUND),
    Expect(Request(host="bar.com", path="/wildcard-foo-example-com"), response=NOT_FOUND),
    Expect(Request(host="bar.com", path="/abc-foo-example-com"), response=NOT_FOUND),
    # Requests to the wildcard-example-com listener
    Expect(Request(host="bar.example.com", path="/empty-hostname"), response=NOT_FOUND),
    Expect(Request(host="bar.example.com", path="/wildcard-example-com"), backend="infra-backend-v1"),
    Expect(Request(host="bar.example.com", path="/wildcard-foo-example-com"), response=NOT_FOUND),
    Expect(Request(host="bar.example.com", path="/abc-foo-example-com"), response=NOT_FOUND),
    # Requests to the wildcard-foo-example-com listener
    Expect(Request(host="bar.foo.example.com", path="/empty-hostname"), response=NOT_FOUND),
    Expect(Request(host="bar.foo.example.com", path="/wildcard-example-com"), response=NOT_FOUND),
    Expect(Request(host="bar.foo.example.com", path="/wildcard-foo-example-com"), backend="infra-backend-v1"),
    Expect(Request(host="bar.foo.example.com", path="/abc-foo-example-com"), response=NOT_FOUND),
    # Requests to the abc-foo-example-com listener
    Expect(Request(host="abc.foo.example.com", path="/empty-hostname"), response=NOT_FOUND),
    Expect(Request(host="abc.foo.example.com", path="/wildcard-example-com"), response=NOT_FOUND),
    Expect(Request(host="abc.foo.example.com", path="/wildcard-foo-example-com"), response=NOT_FOUND),
    Expect(Request(host="abc.foo.example.com", path="/abc-foo-example-com"), backend="infra-backend-v1"),
)


def body(t: Checks) -> None:
    # hostnames are configured only in listeners
    address = t.gateway_and_routes_accepted(GATEWAY, *ROUTES)
    for route in ROUTES:
        t.route_resolved_refs(route, GATEWAY.key)
    expect_all(t, address, CASES)

    # intersecting hostnames are configured in listeners and HTTPRoutes
    address = t.gateway_and_routes_accepted(GATEWAY_INTERSECTION, *ROUTES_INTERSECTION)
    for route in ROUTES_INTERSECTION:
        t.route_resolved_refs(route, GATEWAY_INTERSECTION.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="GatewayHTTPListenerIsolation",
    description="Listener isolation for HTTP listeners with multiple listeners and HTTPRoutes",
    manifests=(
        "gateway-http-listener-isolation.yaml",
        "gateway-http-listener-isolation-with-hostname-intersection.yaml",
    ),
    features=("Gateway", "GatewayHTTPListenerIsolation", "HTTPRoute"),
    body=body,
    source="conformance/tests/gateway-http-listener-isolation.go @ 90561a7f880c31eebe2f2e1d4285fb8a7518354d",
)
