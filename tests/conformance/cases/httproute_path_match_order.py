"""HTTPRoutePathMatchOrder (conformance/tests/httproute-path-match-order.go): Exact beats PathPrefix, and
the longest matching prefix wins, whatever the rule order."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "path-matching-order")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(Request(path="/match/exact/one"), backend="infra-backend-v3"),
    Expect(Request(path="/match/exact"), backend="infra-backend-v2"),
    Expect(Request(path="/match"), backend="infra-backend-v1"),
    Expect(Request(path="/match/prefix/one/any"), backend="infra-backend-v2"),
    Expect(Request(path="/match/prefix/any"), backend="infra-backend-v1"),
    Expect(Request(path="/match/any"), backend="infra-backend-v3"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRoutePathMatchOrder",
    description=("An HTTPRoute where there are multiple matches routing to any given backend "
                 "follows match order precedence"),
    manifests=("httproute-path-match-order.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source=("conformance/tests/httproute-path-match-order.go @ stored features.FeatureName version (index id "
            "1734200144, commit not reported; same cases as 0cfa8673e3dc4a590cfcea4ec6696f0c02d45186)"),
)
