"""ListenerSetAllowedRoutesNamespaces (conformance/tests/listenerset-allowed-routes-namespaces.go):
a ListenerSet's listeners admit routes by their own allowedRoutes, `Same` meaning the set's
namespace (not the Gateway's): a set in the Gateway's namespace with All, Same and Selector
listeners, and a set in another namespace whose Same listener refuses a route from the Gateway's."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..listener_set_checks import ACCEPTED_LISTENER, FEATURES, gateway_accepted_with_sets
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener, expect_all

NOT_FOUND = Response(status=404)
SAME_NAMESPACE = (
    Expect(Request(host="listener-set-listener-allowed-routes-all.com", path="/route-in-same-namespace"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-listener-allowed-routes-all.com", path="/route-in-selected-namespace"), backend="infra-backend-v2"),
    Expect(Request(host="listener-set-listener-allowed-routes-all.com", path="/route-not-in-selected-namespace"), backend="infra-backend-v3"),
    Expect(Request(host="listener-set-listener-allowed-routes-same.com", path="/route-in-same-namespace"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-listener-allowed-routes-same.com", path="/route-in-selected-namespace"), response=NOT_FOUND),
    Expect(Request(host="listener-set-listener-allowed-routes-same.com", path="/route-not-in-selected-namespace"), response=NOT_FOUND),
    Expect(Request(host="listener-set-listener-allowed-routes-selector.com", path="/route-in-same-namespace"), response=NOT_FOUND),
    Expect(Request(host="listener-set-listener-allowed-routes-selector.com", path="/route-in-selected-namespace"), backend="infra-backend-v2"),
    Expect(Request(host="listener-set-listener-allowed-routes-selector.com", path="/route-not-in-selected-namespace"), response=NOT_FOUND),
)
CROSS_NAMESPACE = (
    Expect(Request(host="listener-set-listener-allowed-routes-cross-ns-same.com", path="/route-in-listenerset-namespace"), backend="infra-backend-v1"),
    Expect(Request(host="listener-set-listener-allowed-routes-cross-ns-same.com", path="/route-in-gateway-namespace"), response=NOT_FOUND),
)


def body(t: Checks) -> None:
    gw = Key(INFRA, "gateway-with-listener-sets-test-allowed-routes")
    address = t.gateway_address(GatewayRef(INFRA, gw.name, ("gateway-listener",)))
    gateway_accepted_with_sets(t, gw, 2)

    same = Key(INFRA, "listenerset-test-allowed-routes-namespaces")
    t.routes_and_parent_accepted("ListenerSet", same, Key(INFRA, "route-in-same-namespace"),
                                 Key("gateway-api-routes-allowed-ns", "route-in-selected-namespace"),
                                 Key("gateway-api-routes-not-allowed-ns", "route-not-in-selected-namespace"))
    t.listener_set_listeners(same, (
        ExpectedListener("listener-set-listener-allowed-routes-all", 3, conditions=ACCEPTED_LISTENER),
        ExpectedListener("listener-set-listener-allowed-routes-same", 1, conditions=ACCEPTED_LISTENER),
        ExpectedListener("listener-set-listener-allowed-routes-selector", 1, conditions=ACCEPTED_LISTENER)))
    expect_all(t, address, SAME_NAMESPACE)

    cross = Key("gateway-api-ls-cross-ns", "listenerset-test-allowed-routes-cross-ns")
    t.routes_and_parent_accepted("ListenerSet", cross, Key(cross.namespace, "route-in-listenerset-namespace"))
    t.route_condition(Key(INFRA, "route-in-gateway-namespace"), cross,
                      Condition("Accepted", "False", "NotAllowedByListeners"), parent_kind="ListenerSet")
    t.listener_set_listeners(cross, (
        ExpectedListener("listener-set-listener-allowed-routes-cross-ns-same", 1, conditions=ACCEPTED_LISTENER),))
    expect_all(t, address, CROSS_NAMESPACE)


TEST = ConformanceTest(
    short_name="ListenerSetAllowedRoutesNamespaces",
    description="ListenerSet listeners allow routes from the specified namespace",
    manifests=("listenerset-allowed-routes-namespaces.yaml",),
    features=(*FEATURES, "HTTPRoute", "ReferenceGrant"),
    body=body,
    source="conformance/tests/listenerset-allowed-routes-namespaces.go @ 4564255ac2c3",
)
