"""HTTPRouteRetryConnectionError (conformance/tests/httproute-retry-connection-error.go): a retry
stanza without codes still retries connection resets. The backend resets the connection (TCP RST,
no response) on the first `succeedAfter` requests of each uuid; every probe carries a new uuid."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, expect_all

ROUTE = Key(INFRA, "retries-connection-error")
GATEWAY = GatewayRef(INFRA, "same-namespace")
PATH = "/retry/no-status-code-attempts-3"

CASES = (
    Expect(Request(path=f"{PATH}?succeedAfter=2"), response=Response(status=200), backend="infra-backend-v3",
           namespace=INFRA, unique_query="uuid",
           name=f"0 request to '{PATH}' succeeds after 2 retries on connection errors and max attempts is 3"),
    Expect(Request(path=f"{PATH}?succeedAfter=4"), response=Response(statuses=(500, 503)),
           backend="infra-backend-v3", namespace=INFRA, unique_query="uuid",
           name=f"1 request to '{PATH}' fails when required retries on connection errors exceed max attempts"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    expect_all(t, address, CASES)


TEST = ConformanceTest(
    short_name="HTTPRouteRetryConnectionError",
    description="An HTTPRoute configured with a Retry policy should retry requests that fail due to TCP connection "
                "resets up to the configured maximum number of attempts, returning a successful response only when "
                "the backend recovers within the retry budget.",
    manifests=("httproute-retry-connection-error.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteRetry", "HTTPRouteRetryConnectionError"),
    body=body,
    source="conformance/tests/httproute-retry-connection-error.go @ 4564255ac2c35d582249b3cdf261bdf51c8bca32",
)
