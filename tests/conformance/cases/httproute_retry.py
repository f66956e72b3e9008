"""HTTPRouteRetry (conformance/tests/httproute-retry.go): retry on the listed status codes up to
`attempts` times; a code not listed is not retried. The backend (echo-basic's /retry/ handler)
fails the first `succeedAfter` requests of each uuid with `responseCode`; every probe carries a
new uuid."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "retries")
GATEWAY = GatewayRef(INFRA, "same-namespace")
BACKEND = "infra-backend-v3"


def _case(i: int, path: str, code: int, succeed_after: int, status: int, name: str) -> Expect:
    # url.Values.Encode() sorts the keys: responseCode, succeedAfter, then uuid.
    return Expect(Request(path=f"{path}?responseCode={code}&succeedAfter={succeed_after}"),
                  response=Response(status=status), backend=BACKEND, namespace=INFRA, unique_query="uuid",
                  name=f"{i} request to '{path}' {name}")


A3 = "/retry/code-500-attempts-3"
ALL2 = "/retry/code-all-attempts-2"
CASES = (
    _case(0, A3, 500, 2, 200, "succeeds after 2 retries when retry is configured for status code 500 and max "
                              "attempts is 3"),
    _case(1, A3, 500, 4, 500, "fails when required retries on 500 exceed max attempts"),
    _case(2, A3, 503, 2, 503, "does not retry on 503 when retry is only configured for status code 500"),
    _case(3, ALL2, 500, 1, 200, "succeeds after 1 retry on 500 when retry is configured for all status code and "
                                "max attempts is 2"),
    _case(4, ALL2, 500, 3, 500, "fails when required retries on 500 exceed max attempts"),
    _case(5, ALL2, 502, 1, 200, "succeeds after 1 retry on 502 when retry is configured for all status code and "
                                "max attempts is 2"),
    _case(6, ALL2, 502, 3, 502, "fails when required retries on 502 exceed max attempts"),
    _case(7, ALL2, 503, 1, 200, "succeeds after 1 retry on 503 when retry is configured for all status code and "
                                "max attempts is 2"),
    _case(8, ALL2, 503, 3, 503, "fails when required retries on 503 exceed max attempts"),
    _case(9, ALL2, 504, 1, 200, "succeeds after 1 retry on 504 when retry is configured for all status code and "
                                "max attempts is 2"),
    _case(10, ALL2, 504, 3, 504, "fails when required retries on 504 exceed max attempts"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRetry",
    description="An HTTPRoute that has a Retry policy configured should retry failed requests according to the "
                "specified codes and attempt limits, returning a successful response when the backend recovers "
                "within the retry budget and surfacing the original error when it does not.",
    manifests=("httproute-retry.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRetry"),
    body=body,
    source="conformance/tests/httproute-retry.go @ 4564255ac2c35d582249b3cdf261bdf51c8bca32; the backend's "
           "/retry/ handler: echo-basic/echo-basic.go @ kubernetes-sigs/gateway-api-conformance-images 42c0cd17c472",
)
