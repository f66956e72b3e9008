"""HTTPRouteQueryParamMatching (conformance/tests/httproute-query-param-matching.go): query param matches,
alone and combined with path and header matches, and their precedence (path > header > query)."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "query-param-matching")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_FOUND = Response(status=404)

CASES = (
    Expect(Request(path="/?animal=whale"), backend="infra-backend-v1"),
    Expect(Request(path="/?animal=dolphin"), backend="infra-backend-v2"),
    Expect(Request(path="/?animal=dolphin&color=blue"), backend="infra-backend-v3"),
    Expect(Request(path="/?ANIMAL=Whale"), backend="infra-backend-v3"),
    Expect(Request(path="/?animal=whale&otherparam=irrelevant"), backend="infra-backend-v1"),
    Expect(Request(path="/?animal=dolphin&color=yellow"), backend="infra-backend-v2"),
    Expect(Request(path="/?color=blue"), response=NOT_FOUND),
    Expect(Request(path="/?animal=dog"), response=NOT_FOUND),
    Expect(Request(path="/?animal=whaledolphin"), response=NOT_FOUND),
    Expect(Request(path="/"), response=NOT_FOUND),
    # Combinations with core match types.
    Expect(Request(path="/path1?animal=whale"), backend="infra-backend-v1"),
    Expect(Request(path="/?animal=whale", headers={"version": "one"}), backend="infra-backend-v2"),
    Expect(Request(path="/path2?animal=whale", headers={"version": "two"}), backend="infra-backend-v3"),
    # ORed matches: either one alone is enough.
    Expect(Request(path="/path3?animal=shark"), backend="infra-backend-v1"),
    Expect(Request(path="/path4?animal=kraken", headers={"version": "three"}), backend="infra-backend-v1"),
    # ANDed match types: a subset is not enough.
    Expect(Request(path="/?animal=shark"), response=NOT_FOUND),
    Expect(Request(path="/path4?animal=kraken"), response=NOT_FOUND),
    # Precedence between rules that all match.
    Expect(Request(path="/path5?animal=hydra"), backend="infra-backend-v1"),
    Expect(Request(path="/?animal=hydra", headers={"version": "four"}), backend="infra-backend-v3"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteQueryParamMatching",
    description="A single HTTPRoute with query param matching for different backends",
    manifests=("httproute-query-param-matching.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteQueryParamMatching"),
    body=body,
    source="conformance/tests/httproute-query-param-matching.go @ 0c87f4c12b824bcc5db972ace7ea64075e432120",
)
