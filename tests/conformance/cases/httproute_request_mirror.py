"""HTTPRouteRequestMirror (conformance/tests/httproute-request-mirror.go): a RequestMirror filter copies requests to a second backend."""

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "request-mirror")
GATEWAY = GatewayRef(INFRA, "same-namespace")
MIRROR = Key(INFRA, "infra-backend-v2")

CASES = (
    Expect(
        Request(path="/mirror"),
        expected_request=ExpectedRequest(path="/mirror"),
        backend="infra-backend-v1",
        mirrored_to=(MIRROR,),
    ),
    Expect(
        Request(path="/mirror-and-modify-headers",
                headers={"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1"}),
        expected_request=ExpectedRequest(
            path="/mirror-and-modify-headers",
            headers={
                "X-Header-Add": "header-val-1",
                "X-Header-Add-Append": "append-val-1,header-val-2",
                "X-Header-Set": "set-overwrites-values",
            },
            absent_headers=("X-Header-Remove",),
        ),
        backend="infra-backend-v1",
        mirrored_to=(MIRROR,),
    ),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRequestMirror",
    description="An HTTPRoute with request mirror filter",
    manifests=("httproute-request-mirror.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRequestMirror"),
    body=body,
    source="conformance/tests/httproute-request-mirror.go @ 4e448f0f4c0550e724084fb1b8af31fc07d3bac8",
)
