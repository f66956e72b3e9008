"""HTTPRouteRewritePath (conformance/tests/httproute-rewrite-path.go): URLRewrite of the path (prefix, strip, full), alone and with a header modifier."""

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "rewrite-path")
GATEWAY = GatewayRef(INFRA, "same-namespace")

SENT_HEADERS = {
    "X-Header-Remove": "remove-val",
    "X-Header-Add-Append": "append-val-1",
    "X-Header-Set": "set-val",
}
MODIFIED_HEADERS = {
    "X-Header-Add": "header-val-1",
    "X-Header-Add-Append": "append-val-1,header-val-2",
    "X-Header-Set": "set-overwrites-values",
}

CASES = (
    Expect(Request(path="/prefix/one/two"), expected_request=ExpectedRequest(path="/one/two"),
           backend="infra-backend-v1"),
    Expect(Request(path="/strip-prefix/three"), expected_request=ExpectedRequest(path="/three"),
           backend="infra-backend-v1"),
    Expect(Request(path="/strip-prefix"), expected_request=ExpectedRequest(path="/"),
           backend="infra-backend-v1"),
    Expect(Request(path="/full/one/two"), expected_request=ExpectedRequest(path="/one"),
           backend="infra-backend-v1"),
    Expect(
        Request(path="/full/rewrite-path-and-modify-headers/test", headers=SENT_HEADERS),
        expected_request=ExpectedRequest(path="/test", headers=MODIFIED_HEADERS,
                                         absent_headers=("X-Header-Remove",)),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/prefix/rewrite-path-and-modify-headers/one", headers=SENT_HEADERS),
        expected_request=ExpectedRequest(path="/prefix/one", headers=MODIFIED_HEADERS,
                                         absent_headers=("X-Header-Remove",)),
        backend="infra-backend-v1",
    ),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRewritePath",
    description="An HTTPRoute with path rewrite filter",
    manifests=("httproute-rewrite-path.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRoutePathRewrite"),
    body=body,
    # The listed upstream version (4f79e196) predates the strip-prefix rule; this one matches the YAML.
    source="conformance/tests/httproute-rewrite-path.go @ newer version in the code index (file id 1838324597, commit not given)",
)
