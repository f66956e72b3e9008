"""HTTPRouteRequestHeaderModifier (conformance/tests/httproute-request-header-modifier.go): set, add and remove request headers."""

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "request-header-modifier")
GATEWAY = GatewayRef(INFRA, "same-namespace")

CASES = (
    Expect(
        Request(path="/set", headers={"Some-Other-Header": "val"}),
        expected_request=ExpectedRequest(
            path="/set", headers={"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/set", headers={"Some-Other-Header": "val", "X-Header-Set": "some-other-value"}),
        expected_request=ExpectedRequest(
            path="/set", headers={"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/add", headers={"Some-Other-Header": "val"}),
        expected_request=ExpectedRequest(
            path="/add", headers={"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"}),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/add", headers={"Some-Other-Header": "val", "X-Header-Add": "some-other-value"}),
        expected_request=ExpectedRequest(
            path="/add",
            headers={"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"}),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/remove", headers={"X-Header-Remove": "val"}),
        expected_request=ExpectedRequest(path="/remove", absent_headers=("X-Header-Remove",)),
        backend="infra-backend-v1",
    ),
    Expect(
        Request(path="/multiple", headers={
            "X-Header-Set-2": "set-val-2",
            "X-Header-Add-2": "add-val-2",
            "X-Header-Remove-2": "remove-val-2",
            "Another-Header": "another-header-val",
        }),
        expected_request=ExpectedRequest(
            path="/multiple",
            headers={
                "X-Header-Set-1": "header-set-1",
                "X-Header-Set-2": "header-set-2",
                "X-Header-Add-1": "header-add-1",
                "X-Header-Add-2": "add-val-2,header-add-2",
                "X-Header-Add-3": "header-add-3",
                "Another-Header": "another-header-val",
            },
            absent_headers=("X-Header-Remove-1", "X-Header-Remove-2"),
        ),
        backend="infra-backend-v1",
    ),
    Expect(
        # The filter names the headers canonically; the client sends them in lower case.
        Request(path="/case-insensitivity", headers={
            "x-header-set": "original-val-set",
            "x-header-add": "original-val-add",
            "x-header-remove": "original-val-remove",
            "Another-Header": "another-header-val",
        }),
        expected_request=ExpectedRequest(
            path="/case-insensitivity",
            headers={
                "X-Header-Set": "header-set",
                "X-Header-Add": "original-val-add,header-add",
                "Another-Header": "another-header-val",
            },
            absent_headers=("x-header-remove", "X-Header-Remove"),
        ),
        backend="infra-backend-v1",
    ),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRequestHeaderModifier",
    description="An HTTPRoute has request header modifier filters applied correctly",
    manifests=("httproute-request-header-modifier.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    # The listed upstream version (a230d6e7) predates /case-insensitivity; this one matches the YAML.
    source="conformance/tests/httproute-request-header-modifier.go @ newer version in the code index (file id 768140054, commit not given)",
)
