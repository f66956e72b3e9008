"""HTTPRouteMultipleGateways (conformance/tests/httproute-multiple-gateways.go): a route attached to two
Gateways is served by each, while a route attached to one Gateway is served only there."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

SHARED_ROUTE = Key(INFRA, "multiple-gateways-shared-route")

SAME_NAMESPACE = GatewayRef(INFRA, "same-namespace")
SAME_NAMESPACE_ROUTES = (SHARED_ROUTE, Key(INFRA, "same-namespace-dedicated-route"))
SAME_NAMESPACE_CASES = (
    Expect(Request(path="/shared"), response=Response(status=200), backend="infra-backend-v1",
           name="Gateway same-namespace/shared route is accessible and routed to infra-backend-v1"),
    Expect(Request(path="/"), response=Response(status=200), backend="infra-backend-v2",
           name="Gateway same-namespace/dedicated route is accessible and routed to infra-backend-v2"),
)

ALL_NAMESPACES = GatewayRef(INFRA, "all-namespaces")
ALL_NAMESPACES_ROUTES = (SHARED_ROUTE, Key(INFRA, "all-namespaces-dedicated-route"))
ALL_NAMESPACES_CASES = (
    Expect(Request(path="/shared"), response=Response(status=200), backend="infra-backend-v1",
           name="Gateway all-namespaces/shared route is accessible and routed to infra-backend-v1"),
    Expect(Request(path="/"), response=Response(status=200), backend="infra-backend-v3",
           name="Gateway all-namespaces/dedicated route is accessible and routed to infra-backend-v3"),
)


def body(t: Checks) -> None:
    # The Go runs the two Gateway subtests in parallel; their order does not matter.
    address = t.gateway_and_routes_accepted(SAME_NAMESPACE, *SAME_NAMESPACE_ROUTES)
    expect_all(t, address, SAME_NAMESPACE_CASES)

    address = t.gateway_and_routes_accepted(ALL_NAMESPACES, *ALL_NAMESPACES_ROUTES)
    expect_all(t, address, ALL_NAMESPACES_CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteMultipleGateways",
    description=("An HTTPRoute that is attached to multiple Gateways receives traffic from each Gateway "
                 "independently, and shared routes are accessible via all parent Gateways while dedicated "
                 "routes are only accessible via their respective parent."),
    manifests=("httproute-multiple-gateways.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source=("conformance/tests/httproute-multiple-gateways.go @ stored upstream copy (index id 55495561285; "
            "repository and commit not reported by the index, not among the listed kubernetes-sigs/gateway-api files)"),
)
