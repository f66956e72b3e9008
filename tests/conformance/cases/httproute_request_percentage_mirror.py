"""HTTPRouteRequestPercentageMirror (conformance/tests/httproute-request-percentage-mirror.go): a
RequestMirror filter with `percent` (20, 35) or `fraction` (25/50) copies about that share of the
requests to infra-backend-v2. Each case: one request answered as expected, then up to 5 rounds of
500 requests (10 at a time) with a request id of their own, until the mirror's count of that id
lies within 3 binomial standard deviations of 500 x share."""

import math
import uuid
from dataclasses import replace

from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "request-percentage-mirror")
GATEWAY = GatewayRef(INFRA, "same-namespace")
MIRROR = Key(INFRA, "infra-backend-v2")
REQUEST_ID = "gateway-api-conformance-request-id"  # upstream's requestIDQueryParam
CONCURRENT_REQUESTS = 10
TOTAL_REQUESTS = 500
TOLERANCE_STD_DEVS = 3.0
DISTRIBUTION_CHECKS = 5

CASES: tuple[tuple[Expect, int], ...] = (
    (Expect(Request(path="/percent-mirror"), expected_request=ExpectedRequest(path="/percent-mirror"),
            backend="infra-backend-v1"), 20),
    (Expect(Request(path="/percent-mirror-fraction"), expected_request=ExpectedRequest(path="/percent-mirror-fraction"),
            backend="infra-backend-v1"), 50),
    (Expect(
        Request(path="/percent-mirror-and-modify-headers",
                headers={"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1"}),
        expected_request=ExpectedRequest(
            path="/percent-mirror-and-modify-headers",
            headers={"X-Header-Add": "header-val-1", "X-Header-Add-Append": "append-val-1,header-val-2",
                     "X-Header-Set": "set-overwrites-values"},
            absent_headers=("X-Header-Remove",)),
        backend="infra-backend-v1"), 35),
)


def with_request_id(expected: Expect, request_id: str) -> Expect:
    """AddRequestIDQueryParam: the id on the request's path and on the expected path."""
    def add(path: str) -> str:
        return f"{path}{'&' if '?' in path else '?'}{REQUEST_ID}={request_id}"

    assert expected.expected_request is not None and expected.expected_request.path is not None
    return replace(expected, request=replace(expected.request, path=add(expected.request.path)),
                   expected_request=replace(expected.expected_request, path=add(expected.expected_request.path)))


def distribution_problem(mirrored: int, percent: int) -> str | None:
    """testMirroredRequestsDistribution: `mirrored` of TOTAL_REQUESTS within the binomial band."""
    p = percent / 100
    expected = TOTAL_REQUESTS * p
    margin = TOLERANCE_STD_DEVS * math.sqrt(TOTAL_REQUESTS * p * (1 - p))
    if expected - margin <= mirrored <= expected + margin:
        return None
    return f"{mirrored} mirrored, expected between {expected - margin:.1f} and {expected + margin:.1f}"


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    for expected, percent in CASES:
        t.expect(address, expected)
        problems = []
        for _ in range(DISTRIBUTION_CHECKS):
            probe = with_request_id(expected, str(uuid.uuid4()))
            t.expect_each(address, probe, TOTAL_REQUESTS, CONCURRENT_REQUESTS)
            assert probe.expected_request is not None and probe.expected_request.path is not None
            problem = distribution_problem(t.mirrored_count(MIRROR, probe.request.path), percent)
            if problem is None:
                break
            problems.append(problem)
        else:
            t.fail(f"{expected.title()}: percentage based mirror distribution tests failed: {'; '.join(problems)}")


TEST = ConformanceTest(
    short_name="HTTPRouteRequestPercentageMirror",
    description="An HTTPRoute with percentage based request mirroring",
    manifests=("httproute-request-percentage-mirror.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRequestPercentageMirror"),
    body=body,
    provisional=True,
    source="conformance/tests/httproute-request-percentage-mirror.go @ 4564255ac2c3",
)
