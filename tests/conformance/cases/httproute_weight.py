"""HTTPRouteWeight (conformance/tests/httproute-weight.go): backends weighted 70/30/0 must share 500 requests
within five percentage points of their weights, and the zero-weight backend must get none."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest, Reply

ROUTE = Key(INFRA, "weighted-backends")
GATEWAY = GatewayRef(INFRA, "same-namespace")

EXPECTED = Expect(Request(path="/"), response=Response(statuses=(200,)), namespace=INFRA,
                  name="Requests should have a distribution that matches the weight")

WEIGHTS = {"infra-backend-v1": 0.7, "infra-backend-v2": 0.3, "infra-backend-v3": 0.0}
TOTAL_REQUESTS = 500
CONCURRENT_REQUESTS = 10
TOLERANCE = 0.05
MAX_ATTEMPTS = 10  # weight.MaxTestRetries


def _backend_of(reply: Reply) -> tuple[str | None, str | None]:
    """The weighted backend that answered, or the reason the reply does not match EXPECTED."""
    if not EXPECTED.response.accepts(reply.status):
        return None, f"unexpected status {reply.status}"
    echo = reply.echo or {}
    if echo.get("path") != EXPECTED.request.path:
        return None, f"backend saw path {echo.get('path')!r}, want {EXPECTED.request.path!r}"
    if echo.get("namespace") != EXPECTED.namespace:
        return None, f"backend namespace {echo.get('namespace')!r}, want {EXPECTED.namespace!r}"
    pod = str(echo.get("pod", ""))
    for backend in WEIGHTS:
        if pod.startswith(backend):
            return backend, None
    return None, f"request was handled by an unexpected pod {pod!r}"


def distribution_error(t: Checks, address: str) -> str | None:
    """One round of weight.TestWeightedDistribution; None when the distribution is within tolerance."""
    replies = t.requests(address, EXPECTED.request, TOTAL_REQUESTS, CONCURRENT_REQUESTS)
    seen: dict[str, int] = {}
    for reply in replies:
        backend, error = _backend_of(reply)
        if error or backend is None:
            return f"error while sending requests: {error}"
        seen[backend] = seen.get(backend, 0) + 1

    active = sum(1 for weight in WEIGHTS.values() if weight > 0)
    errors = []
    if len(seen) != active:
        errors.append(f"expected {active} backends to receive traffic, but got {len(seen)}")
    for backend, want in WEIGHTS.items():
        if backend not in seen and want != 0.0:
            errors.append(f"expect traffic to hit backend {backend!r} - but none was received")
            continue
        got = seen.get(backend, 0) / TOTAL_REQUESTS
        if abs(got - want) > TOLERANCE:
            errors.append(f"backend {backend!r} weighted traffic of {got} not within tolerance {want} "
                          f"(+/-{TOLERANCE:f})")
    return "; ".join(sorted(errors)) or None


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    # Assert the request succeeds before checking the distribution.
    t.expect(address, EXPECTED)
    failures = []
    for attempt in range(MAX_ATTEMPTS):
        error = distribution_error(t, address)
        if error is None:
            return
        failures.append(f"({attempt + 1}/{MAX_ATTEMPTS}) {error}")
    t.fail("Weighted distribution tests failed: " + " | ".join(failures))


TEST = ConformanceTest(
    short_name="HTTPRouteWeight",
    description="An HTTPRoute with weighted backends",
    manifests=("httproute-weight.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-weight.go @ newest stored version (uses conformance/utils/weight; "
           "index file id 10726692779, commit not reported) + conformance/utils/weight/weight.go"
           " @ c94603dd9d4fb2ebf6b721681e809bff67b77f01",
)
