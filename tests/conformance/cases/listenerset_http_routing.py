"""ListenerSetHTTPRouting (conformance/tests/listenerset-http-routing.go): routes reach the
listeners of their parents only. A Gateway parentRef serves on the Gateway's own listeners (with
sectionName: that one), a ListenerSet parentRef on the set's; a route with all three parents on
every listener; every other host answers 404 for the route's path."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..listener_set_checks import ACCEPTED_LISTENER, FEATURES
from ..suite import Checks, ConformanceTest, ExpectedListener, expect_all

NOT_FOUND = Response(status=404)
CASES = (
    Expect(Request(host="gateway-listener-1.com", path="/route"), backend="infra-backend-v1"),
    Expect(Request(host="gateway-listener-2.com", path="/route"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-http-routing-1-listener-1.com", path="/route"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-http-routing-1-listener-2.com", path="/route"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-http-routing-2-listener-1.com", path="/route"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-http-routing-2-listener-2.com", path="/route"), backend="infra-backend-v1"),
    Expect(Request(host="gateway-listener-1.com", path="/gateway-route"), backend="infra-backend-v2"),
    Expect(Request(host="gateway-listener-2.com", path="/gateway-route"), backend="infra-backend-v2"),
    Expect(Request(host="listener-set-http-routing-1-listener-1.com", path="/gateway-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-2.com", path="/gateway-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-1.com", path="/gateway-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-2.com", path="/gateway-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-1.com", path="/gateway-section-route"), backend="infra-backend-v3"),
    Expect(Request(host="gateway-listener-2.com", path="/gateway-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-1.com", path="/gateway-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-2.com", path="/gateway-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-1.com", path="/gateway-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-2.com", path="/gateway-section-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-1.com", path="/listener-set-http-routing-1-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-2.com", path="/listener-set-http-routing-1-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-1.com", path="/listener-set-http-routing-1-route"), backend="infra-backend-v2"),
    Expect(Request(host="listener-set-http-routing-1-listener-2.com", path="/listener-set-http-routing-1-route"), backend="infra-backend-v2"),
    Expect(Request(host="listener-set-http-routing-2-listener-1.com", path="/listener-set-http-routing-1-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-2.com", path="/listener-set-http-routing-1-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-1.com", path="/listener-set-http-routing-1-section-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-2.com", path="/listener-set-http-routing-1-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-1.com", path="/listener-set-http-routing-1-section-route"), backend="infra-backend-v3"),
    Expect(Request(host="listener-set-http-routing-1-listener-2.com", path="/listener-set-http-routing-1-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-1.com", path="/listener-set-http-routing-1-section-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-2.com", path="/listener-set-http-routing-1-section-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-1.com", path="/listener-set-http-routing-2-route"), response=NOT_FOUND),
    Expect(Request(host="gateway-listener-2.com", path="/listener-set-http-routing-2-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-1.com", path="/listener-set-http-routing-2-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-1-listener-2.com", path="/listener-set-http-routing-2-route"), response=NOT_FOUND),
    Expect(Request(host="listener-set-http-routing-2-listener-1.com", path="/listener-set-http-routing-2-route"), backend="infra-backend-v2"),
    Expect(Request(host="listener-set-http-routing-2-listener-2.com", path="/listener-set-http-routing-2-route"), backend="infra-backend-v2"),
)


def body(t: Checks) -> None:
    # Upstream names a listener "gateway-listener" the Gateway does not have (its helper then
    # checks none); every listener of it is checked here.
    gw = GatewayRef(INFRA, "gateway-with-listener-sets-http-routing")
    address = t.gateway_and_routes_accepted(
        gw, Key(INFRA, "attaches-to-all-listeners"), Key(INFRA, "gateway-route"),
        Key(INFRA, "gateway-section-route"))
    t.attached_listener_sets(gw.key, 2)
    first = Key(INFRA, "listener-set-http-routing-1")
    t.routes_and_parent_accepted("ListenerSet", first, Key(INFRA, "attaches-to-all-listeners"),
                                 Key(INFRA, "listener-set-http-routing-1-route"),
                                 Key(INFRA, "listener-set-http-routing-1-section-route"))
    t.listener_set_listeners(first, (
        ExpectedListener("listener-set-http-routing-1-listener-1", 3, conditions=ACCEPTED_LISTENER),
        ExpectedListener("listener-set-http-routing-1-listener-2", 2, conditions=ACCEPTED_LISTENER)))
    second = Key(INFRA, "listener-set-http-routing-2")
    t.routes_and_parent_accepted("ListenerSet", second, Key(INFRA, "attaches-to-all-listeners"),
                                 Key(INFRA, "listener-set-http-routing-2-route"))
    t.listener_set_listeners(second, (
        ExpectedListener("listener-set-http-routing-2-listener-1", 2, conditions=ACCEPTED_LISTENER),
        ExpectedListener("listener-set-http-routing-2-listener-2", 2, conditions=ACCEPTED_LISTENER)))
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="ListenerSetHTTPRouting",
    description="HTTP Routing works as expected with ListenerSets",
    manifests=("listenerset-http-routing.yaml",),
    features=(*FEATURES, "HTTPRoute"),
    body=body,
    source="conformance/tests/listenerset-http-routing.go @ 4564255ac2c3",
)
