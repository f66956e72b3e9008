"""HTTPRouteNoBackendRefs (conformance/tests/httproute-omitted-backendrefs.go): rules whose backendRefs are
omitted or empty answer 500; a sibling rule with a backend still forwards."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, Condition, ConformanceTest, ExpectedParent, expect_all

ROUTE = Key(INFRA, "omitted-backendrefs")
GATEWAY = GatewayRef(INFRA, "same-namespace")

# The Go test clears the expected parentRef namespace (same-namespace route) and checks parents exactly.
PARENTS = (ExpectedParent(GATEWAY.key, conditions=(Condition("Accepted", "True"),), namespaced=False),)

CASES = (
    Expect(Request(path="/forward"), backend="infra-backend-v1"),
    Expect(Request(path="/omitted-no-forward"), response=Response(status=500)),
    Expect(Request(path="/empty-no-forward"), response=Response(status=500)),
)


def body(t: Checks) -> None:
    address = t.gateway_address(GATEWAY)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    t.route_parents(ROUTE, PARENTS, True)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteNoBackendRefs",
    description="HTTPRoute rules with omitted or empty backendRefs explicitly respond with 500",
    manifests=("httproute-omitted-backendrefs.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-omitted-backendrefs.go @ 832f6ff5a5ee40ae731f5a80840d755d8d8a562b",
)
