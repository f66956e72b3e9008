"""HTTPRouteRewriteHost (conformance/tests/httproute-rewrite-host.go): URLRewrite of the Host, alone and with a header modifier."""

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "rewrite-host")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(
        Request(path="/one", host="rewrite.example"),
        expected_request=ExpectedRequest(path="/one", host="one.example.org"),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/two", host="rewrite.example"),
        expected_request=ExpectedRequest(path="/two", host="example.org"),
        backend="infra-backend-v2",
    ),
    Expect(
        Request(
            path="/rewrite-host-and-modify-headers",
            host="rewrite.example",
            headers={"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1"},
        ),
        expected_request=ExpectedRequest(
            path="/rewrite-host-and-modify-headers",
            host="test.example.org",
            headers={
                "X-Header-Add": "header-val-1",
                "X-Header-Add-Append": "append-val-1,header-val-2",
                "X-Header-Set": "set-overwrites-values",
            },
            absent_headers=("X-Header-Remove",),
        ),
        backend="infra-backend-v2",
    ),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRewriteHost",
    description="An HTTPRoute with hostname rewrite filter",
    manifests=("httproute-rewrite-host.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteHostRewrite"),
    body=body,
    source="conformance/tests/httproute-rewrite-host.go @ 122658a2f41d8d7e7109f6e42d1d52a232ddf3cc",
)
