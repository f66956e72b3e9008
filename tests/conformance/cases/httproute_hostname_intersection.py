"""HTTPRouteHostnameIntersection (conformance/tests/httproute-hostname-intersection.go): routes attach to
listeners only where their hostnames intersect, serve only the intersecting hostnames, and a route that
intersects no listener is rejected and not counted in attachedRoutes."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import (
    Checks,
    Condition,
    ConformanceTest,
    ExpectedListener,
    ExpectedParent,
    expect_all,
)

GATEWAY = GatewayRef(INFRA, "httproute-hostname-intersection")
GATEWAY_ALL = GatewayRef(INFRA, "httproute-hostname-intersection-all")

INTERSECTING_ROUTES = (
    Key(INFRA, "specific-host-matches-listener-specific-host"),
    Key(INFRA, "specific-host-matches-listener-wildcard-host"),
    Key(INFRA, "wildcard-host-matches-listener-specific-host"),
    Key(INFRA, "wildcard-host-matches-listener-wildcard-host"),
)
NO_INTERSECTION_ROUTE = Key(INFRA, "no-intersecting-hosts")
ALL_ROUTES = (Key(INFRA, "httproute-hostname-intersection-all"),)

NOT_FOUND = Response(status=404)

INTERSECTING_CASES = (
    # specific-host-matches-listener-specific-host
    Expect(Request(host="very.specific.com", path="/s1"), backend="infra-backend-v1"),
    # The port in the Host header must not take part in hostname matching.
    Expect(Request(host="very.specific.com:1234", path="/s1"), backend="infra-backend-v1"),
    Expect(Request(host="non.matching.com", path="/s1"), response=NOT_FOUND),
    Expect(Request(host="foo.nonmatchingwildcard.io", path="/s1"), response=NOT_FOUND),
    Expect(Request(host="foo.wildcard.io", path="/s1"), response=NOT_FOUND),
    Expect(Request(host="very.specific.com", path="/non-matching-prefix"), response=NOT_FOUND),
    # specific-host-matches-listener-wildcard-host
    Expect(Request(host="foo.wildcard.io", path="/s2"), backend="infra-backend-v2"),
    Expect(Request(host="bar.wildcard.io", path="/s2"), backend="infra-backend-v2"),
    Expect(Request(host="foo.bar.wildcard.io", path="/s2"), backend="infra-backend-v2"),
    Expect(Request(host="non.matching.com", path="/s2"), response=NOT_FOUND),
    Expect(Request(host="wildcard.io", path="/s2"), response=NOT_FOUND),
    Expect(Request(host="very.specific.com", path="/s2"), response=NOT_FOUND),
    Expect(Request(host="foo.wildcard.io", path="/non-matching-prefix"), response=NOT_FOUND),
    # wildcard-host-matches-listener-specific-host
    Expect(Request(host="very.specific.com", path="/s3"), backend="infra-backend-v3"),
    Expect(Request(host="non.matching.com", path="/s3"), response=NOT_FOUND),
    Expect(Request(host="foo.specific.com", path="/s3"), response=NOT_FOUND),
    Expect(Request(host="foo.wildcard.io", path="/s3"), response=NOT_FOUND),
    Expect(Request(host="very.specific.com", path="/non-matching-prefix"), response=NOT_FOUND),
    # wildcard-host-matches-listener-wildcard-host
    Expect(Request(host="foo.anotherwildcard.io", path="/s4"), backend="infra-backend-v1"),
    Expect(Request(host="bar.anotherwildcard.io", path="/s4"), backend="infra-backend-v1"),
    Expect(Request(host="foo.bar.anotherwildcard.io", path="/s4"), backend="infra-backend-v1"),
    Expect(Request(host="anotherwildcard.io", path="/s4"), response=NOT_FOUND),
    Expect(Request(host="foo.wildcard.io", path="/s4"), response=NOT_FOUND),
    Expect(Request(host="very.specific.com", path="/s4"), response=NOT_FOUND),
    Expect(Request(host="foo.anotherwildcard.io", path="/non-matching-prefix"), response=NOT_FOUND),
)

NO_INTERSECTION_PARENTS = (
    ExpectedParent(
        gateway=GATEWAY.key,
        conditions=(Condition("Accepted", "False", "NoMatchingListenerHostname"),),
    ),
)

NO_INTERSECTION_CASES = (
    Expect(Request(host="specific.but.wrong.com", path="/s5"), response=NOT_FOUND),
    Expect(Request(host="wildcard.io", path="/s5"), response=NOT_FOUND),
)

_READY = (Condition("Accepted"), Condition("ResolvedRefs"))

# no-intersecting-hosts must not be counted on any listener.
LISTENERS = (
    # specific-host-matches-listener-specific-host and wildcard-host-matches-listener-specific-host
    ExpectedListener("listener-1", attached_routes=2, conditions=_READY),
    # specific-host-matches-listener-wildcard-host
    ExpectedListener("listener-2", attached_routes=1, conditions=_READY),
    # wildcard-host-matches-listener-wildcard-host
    ExpectedListener("listener-3", attached_routes=1, conditions=_READY),
)

ALL_CASES = (
    Expect(Request(host="first.com", path="/"), backend="infra-backend-v2"),
    Expect(Request(host="sub.first.com", path="/"), backend="infra-backend-v2"),
    Expect(Request(host="second.com", path="/"), backend="infra-backend-v2"),
    Expect(Request(host="sub.second.com", path="/"), backend="infra-backend-v2"),
    # Not among the route's hostnames.
    Expect(Request(host="third.com", path="/"), response=NOT_FOUND),
    Expect(Request(host="sub.third.com", path="/"), response=NOT_FOUND),
)


def body(t: Checks) -> None:
    # HTTPRoutes that do intersect with listener hostnames
    address = t.gateway_and_routes_accepted(GATEWAY, *INTERSECTING_ROUTES)
    for route in INTERSECTING_ROUTES:
        t.route_resolved_refs(route, GATEWAY.key)
    expect_all(t, address, INTERSECTING_CASES)

    # HTTPRoutes that do not intersect with listener hostnames
    address = t.gateway_and_routes_accepted(GATEWAY)
    t.route_parents(NO_INTERSECTION_ROUTE, NO_INTERSECTION_PARENTS, True)
    expect_all(t, address, NO_INTERSECTION_CASES)

    # HTTPRoutes have to be counted in AttachedRoutes only if they are Accepted
    t.gateway_listeners(GATEWAY.key, LISTENERS)

    # HTTPRoutes intersects with an unspecified hostname listener
    address = t.gateway_and_routes_accepted(GATEWAY_ALL, *ALL_ROUTES)
    for route in ALL_ROUTES:
        t.route_resolved_refs(route, GATEWAY_ALL.key)
    expect_all(t, address, ALL_CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteHostnameIntersection",
    description=("HTTPRoutes should attach to listeners only if they have intersecting hostnames, "
                 "and should accept requests only for the intersecting hostnames"),
    manifests=("httproute-hostname-intersection.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-hostname-intersection.go @ 0c87f4c12b824bcc5db972ace7ea64075e432120",
)
