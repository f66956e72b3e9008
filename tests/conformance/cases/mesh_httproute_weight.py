"""MeshHTTPRouteWeight (conformance/tests/mesh/httproute-weight.go): echo-v1 and echo-v2 weighted 70/30
must share a batch of 500 requests within five percentage points of their weights
(weight.TestWeightedDistributionBatch, up to 10 attempts)."""

from ..expect import MESH, Expect, Request, Response
from ..mesh_client import hostname
from ..suite import ECHO_V1, MESH_SOURCE, Checks, ConformanceTest, MeshPod

EXPECTED = Expect(Request(path="/", host="echo"), response=Response(status=200), namespace=MESH,
                  name="Requests should have a distribution that matches the weight")
WEIGHTS = {"echo-v1": 0.7, "echo-v2": 0.3}
TOTAL_REQUESTS = 500
TOLERANCE = 0.05
MAX_ATTEMPTS = 10  # weight.MaxTestRetries


def backend_name(pod: str) -> str:
    """weight.extractBackendName: the Pod name without its two generated parts."""
    parts = pod.split("-")
    return pod if len(parts) < 3 else "-".join(parts[:-2])


def distribution_error(t: Checks, client: MeshPod, weights: dict[str, float], expected: Expect = EXPECTED) -> str | None:
    """One round of weight.TestWeightedDistributionBatch; None when within tolerance."""
    pods = [hostname(r) for r in t.mesh_batch(client, expected, TOTAL_REQUESTS)]
    if len(pods) != TOTAL_REQUESTS:
        return f"expected {TOTAL_REQUESTS} responses but got {len(pods)}"
    seen: dict[str, int] = {}
    for pod in pods:
        backend = backend_name(pod)
        if backend not in weights:
            return f"request was handled by an unexpected pod {pod!r} (extracted backend: {backend!r})"
        seen[backend] = seen.get(backend, 0) + 1
    active = sum(1 for w in weights.values() if w > 0)
    errors = []
    if len(seen) != active:
        errors.append(f"expected {active} backends to receive traffic, but got {len(seen)}")
    for backend, want in weights.items():
        if backend not in seen and want != 0.0:
            errors.append(f"expect traffic to hit backend {backend!r} - but none was received")
            continue
        got = seen.get(backend, 0) / TOTAL_REQUESTS
        if abs(got - want) > TOLERANCE:
            errors.append(f"backend {backend!r} weighted traffic of {got} not within tolerance {want} "
                          f"(+/-{TOLERANCE:f})")
    return "; ".join(sorted(errors)) or None


def expect_weights(t: Checks, expected: Expect, weights: dict[str, float]) -> None:
    """The test body, from echo-v1's Pod: `expected` answered, then batches of it distributed
    by `weights` within tolerance, in one of MAX_ATTEMPTS rounds (shared with MeshGRPCRouteWeight)."""
    client = t.mesh_client(ECHO_V1)
    # Assert the request succeeds before checking the distribution.
    t.mesh_expect(client, expected)
    failures = []
    for attempt in range(MAX_ATTEMPTS):
        error = distribution_error(t, client, weights, expected)
        if error is None:
            return
        failures.append(f"({attempt + 1}/{MAX_ATTEMPTS}) {error}")
    t.fail("Weighted distribution tests failed: " + " | ".join(failures))


def body(t: Checks) -> None:
    expect_weights(t, EXPECTED, WEIGHTS)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteWeight",
    description="An HTTPRoute with weighted backends",
    manifests=("mesh/httproute-weight.yaml",),
    features=("Mesh", "HTTPRoute"),
    body=body,
    source=MESH_SOURCE.format("httproute-weight.go") + " + conformance/utils/weight/weight.go (same commit)",
)
