"""HTTPRouteRetryWithTimeouts (conformance/tests/httproute-retry-with-timeouts.go): an attempt that
outlives backendRequest is cancelled and retried; retries stop when `request` runs out (504). The
backend waits `delayRetry` before each failure; every probe carries a new uuid."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "retries-with-timeouts")
GATEWAY = GatewayRef(INFRA, "same-namespace")
BACKEND_TIMEOUT = "/retry/backend-request-timeout-200ms"
REQUEST_TIMEOUT = "/retry/request-timeout-200ms"


def _case(i: int, path: str, query: str, status: int, name: str) -> Expect:
    return Expect(Request(path=f"{path}?{query}"), response=Response(status=status), backend="infra-backend-v3",
                  namespace=INFRA, unique_query="uuid", name=f"{i} request to '{path}' {name}")


# url.Values.Encode() sorts the keys: delayRetry, responseCode, succeedAfter, then uuid.
CASES = (
    _case(0, BACKEND_TIMEOUT, "delayRetry=300ms&responseCode=500&succeedAfter=2", 200,
          "succeeds after 2 retries on backend timeout with max attempts is 3"),
    _case(1, BACKEND_TIMEOUT, "delayRetry=300ms&responseCode=500&succeedAfter=3", 504,
          "fails when required retries on backend timeout exceed max attempts"),
    _case(2, REQUEST_TIMEOUT, "responseCode=500&succeedAfter=1", 200,
          "succeeds when retries complete within the request timeout"),
    _case(3, REQUEST_TIMEOUT, "delayRetry=100ms&responseCode=500&succeedAfter=4", 504,
          "fails with 504 when retry delays exceed the request timeout"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRetryWithTimeouts",
    description="An HTTPRoute that has both Retry and Timeout policies configured should retry failed requests only "
                "while the configured timeouts permit, returning a successful response when the backend recovers "
                "within the timeout budget and surfacing a timeout error when retries or backend delays exceed the "
                "request or backend request timeout.",
    manifests=("httproute-retry-with-timeouts.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRetry", "HTTPRouteRetryBackendTimeout", "HTTPRouteRequestTimeout",
              "HTTPRouteBackendTimeout"),
    body=body,
    source="conformance/tests/httproute-retry-with-timeouts.go @ 4564255ac2c35d582249b3cdf261bdf51c8bca32",
)
