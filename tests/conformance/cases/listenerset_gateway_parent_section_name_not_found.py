"""ListenerSetGatewayParentSectionNameNotFound (conformance/tests/listenerset-gateway-parent-section-name-not-found.go):
a Gateway parentRef cannot name a ListenerSet's listener in its sectionName (NoMatchingParent);
through the ListenerSet the same listener serves the route."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..listener_set_checks import FEATURES, gateway_accepted_with_sets
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = Key(INFRA, "gateway-section-name")
    address = t.gateway_address(GatewayRef(INFRA, gw.name, ("gw-listener",)))
    gateway_accepted_with_sets(t, gw, 1)
    t.routes_and_parent_accepted("ListenerSet", Key(INFRA, "listenerset-section-name"), Key(INFRA, "route-via-listenerset"))
    t.route_condition(Key(INFRA, "route-via-gateway"), gw, Condition("Accepted", "False", "NoMatchingParent"))
    t.expect(address, Expect(Request(host="ls-section-name.com", path="/goodsection"), backend="infra-backend-v1"))
    t.expect(address, Expect(Request(host="gw-section.com", path="/badsection"), response=Response(status=404)))


TEST = ConformanceTest(
    short_name="ListenerSetGatewayParentSectionNameNotFound",
    description="A Route must not be able to find a ListenerSet sectionName using a Gateway parentRef",
    manifests=("listenerset-gateway-parent-section-name-not-found.yaml",),
    features=(*FEATURES, "HTTPRoute"),
    body=body,
    source="conformance/tests/listenerset-gateway-parent-section-name-not-found.go @ 4564255ac2c3",
)
