"""HTTPRouteRequestMultipleMirrors (conformance/tests/httproute-request-multiple-mirrors.go): two RequestMirror filters in one rule."""

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "request-multiple-mirrors")
GATEWAY = GatewayRef(INFRA, "same-namespace")
MIRRORS = (Key(INFRA, "infra-backend-v2"), Key(INFRA, "infra-backend-v3"))

CASES = (
    Expect(
        Request(path="/multi-mirror"),
        expected_request=ExpectedRequest(path="/multi-mirror"),
        backend="infra-backend-v1",
        mirrored_to=MIRRORS,
    ),
    Expect(
        Request(path="/multi-mirror-and-modify-request-headers",
                headers={"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1"}),
        expected_request=ExpectedRequest(
            path="/multi-mirror-and-modify-request-headers",
            headers={
                "X-Header-Add": "header-val-1",
                "X-Header-Add-Append": "append-val-1,header-val-2",
                "X-Header-Set": "set-overwrites-values",
            },
            absent_headers=("X-Header-Remove",),
        ),
        backend="infra-backend-v1",
        mirrored_to=MIRRORS,
    ),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRequestMultipleMirrors",
    description="An HTTPRoute with multiple request mirror filters",
    manifests=("httproute-request-multiple-mirrors.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRequestMirror", "HTTPRouteRequestMultipleMirrors"),
    body=body,
    # The listed upstream version (7b171016) is older (ShortName HTTPRouteRequestMirrors, paths /mirror...).
    source="conformance/tests/httproute-request-multiple-mirrors.go @ newer version in the code index (file id 1302693500, commit not given)",
)
