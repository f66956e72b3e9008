"""ListenerSetRouteStatusScopedToParentRef (conformance/tests/listenerset-route-status-scoped-to-parentref.go):
a route's status.parents holds entries for its own parentRefs only: the Gateway-only route one
for the Gateway, the ListenerSet-only route one for the ListenerSet (never the set's Gateway)."""

from ..expect import INFRA, Key
from ..listener_set_checks import ACCEPTED_LISTENER, FEATURES, gateway_accepted_with_sets
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener, ExpectedParent

ACCEPTED = (Condition("Accepted", "True"),)


def body(t: Checks) -> None:
    gw = Key(INFRA, "gateway-parentref")
    gateway_accepted_with_sets(t, gw, 1)
    ls = Key(INFRA, "listenerset-parentref")
    t.listener_set_listeners(ls, (ExpectedListener("listenerset-parentref-listener", 1, conditions=ACCEPTED_LISTENER),))

    gw_only = Key(INFRA, "route-parentref-gwonly")
    t.route_condition(gw_only, gw, Condition("Accepted", "True"))
    t.route_parents(gw_only, (ExpectedParent(gw, conditions=ACCEPTED),), namespace_required=True)

    ls_only = Key(INFRA, "route-parentref-lsonly")
    t.routes_and_parent_accepted("ListenerSet", ls, ls_only)
    t.route_parents(ls_only, (ExpectedParent(ls, conditions=ACCEPTED, kind="ListenerSet"),), namespace_required=True)


TEST = ConformanceTest(
    short_name="ListenerSetRouteStatusScopedToParentRef",
    description="A Route's status.parents must contain entries only for its explicitly declared parentRefs",
    manifests=("listenerset-route-status-scoped-to-parentref.yaml",),
    features=(*FEATURES, "HTTPRoute"),
    body=body,
    source="conformance/tests/listenerset-route-status-scoped-to-parentref.go @ 4564255ac2c3",
)
