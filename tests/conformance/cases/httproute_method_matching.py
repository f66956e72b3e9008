"""HTTPRouteMethodMatching (conformance/tests/httproute-method-matching.go): method matches, alone and
combined with path and header matches, and their precedence (path > method > header)."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "method-matching")
GATEWAY = GatewayRef(INFRA, "same-namespace")

NOT_FOUND = Response(status=404)

CASES = (
    Expect(Request(method="POST", path="/"), backend="infra-backend-v1"),
    Expect(Request(method="GET", path="/"), backend="infra-backend-v2"),
    Expect(Request(method="HEAD", path="/"), response=NOT_FOUND),
    # Combinations with core match types.
    Expect(Request(method="GET", path="/path1"), backend="infra-backend-v1"),
    Expect(Request(method="PUT", path="/", headers={"version": "one"}), backend="infra-backend-v2"),
    Expect(Request(method="POST", path="/path2", headers={"version": "two"}), backend="infra-backend-v3"),
    # ORed matches: either one alone is enough.
    Expect(Request(method="PATCH", path="/path3"), backend="infra-backend-v1"),
    Expect(Request(method="DELETE", path="/path4", headers={"version": "three"}), backend="infra-backend-v1"),
    # ANDed match types: a subset is not enough.
    Expect(Request(method="PUT", path="/"), response=NOT_FOUND),
    Expect(Request(method="DELETE", path="/path4"), response=NOT_FOUND),
    # Precedence between rules that all match. Older upstream copies expected infra-backend-v3 for the
    # last case; the current one (method beats header) expects v2.
    Expect(Request(method="PATCH", path="/path5"), backend="infra-backend-v1"),
    Expect(Request(method="PATCH", path="/", headers={"version": "four"}), backend="infra-backend-v2"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteMethodMatching",
    description="A single HTTPRoute with method matching for different backends",
    manifests=("httproute-method-matching.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteMethodMatching"),
    body=body,
    source="conformance/tests/httproute-method-matching.go @ 0c87f4c12b824bcc5db972ace7ea64075e432120",
)
