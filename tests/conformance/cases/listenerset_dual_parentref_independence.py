"""ListenerSetDualParentRefIndependence (conformance/tests/listenerset-dual-parentref-independence.go):
a route with a Gateway and a ListenerSet parentRef gets each judged on its own: both Accepted and
served on both; or the Gateway one NoMatchingParent while the ListenerSet one serves."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..listener_set_checks import ACCEPTED_LISTENER, FEATURES, gateway_accepted_with_sets
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener, expect_all


def body(t: Checks) -> None:
    gw = Key(INFRA, "gateway-dual-parentref")
    address = t.gateway_address(GatewayRef(INFRA, gw.name, ("gw-dual-parentref-listener",)))
    gateway_accepted_with_sets(t, gw, 1)
    ls = Key(INFRA, "ls-dual-parentref")
    t.listener_set_listeners(ls, (ExpectedListener("ls-dual-parentref-listener", 2, conditions=ACCEPTED_LISTENER),))

    both = Key(INFRA, "route-dual-parentref-both")
    t.route_condition(both, gw, Condition("Accepted", "True"))
    t.route_condition(both, ls, Condition("Accepted", "True"), parent_kind="ListenerSet")
    expect_all(t, address, (
        Expect(Request(host="gw-dual.com", path="/dualboth"), backend="infra-backend-v1"),
        Expect(Request(host="ls-dual.com", path="/dualboth"), backend="infra-backend-v1"),
    ))

    one = Key(INFRA, "route-dual-parentref-one")
    t.route_condition(one, gw, Condition("Accepted", "False", "NoMatchingParent"))
    t.route_condition(one, ls, Condition("Accepted", "True"), parent_kind="ListenerSet")
    t.routes_and_parent_accepted("ListenerSet", ls, one)
    expect_all(t, address, (
        Expect(Request(host="ls-dual.com", path="/dualone"), backend="infra-backend-v2"),
        Expect(Request(host="gw-dual.com", path="/dualone"), response=Response(status=404)),
    ))


TEST = ConformanceTest(
    short_name="ListenerSetDualParentRefIndependence",
    description="A Route with both Gateway and ListenerSet parentRefs has independently evaluated Accepted "
                "conditions for each parentRef",
    manifests=("listenerset-dual-parentref-independence.yaml",),
    features=(*FEATURES, "HTTPRoute"),
    body=body,
    source="conformance/tests/listenerset-dual-parentref-independence.go @ 4564255ac2c3",
)
