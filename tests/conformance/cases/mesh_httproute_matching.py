"""MeshHTTPRouteMatching (conformance/tests/mesh/httproute-matching.go): path and header matches in
one route on Service echo."""

from ..expect import MESH, Expect, Request
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (
    Expect(Request(path="/"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/example"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/", headers={"Version": "one"}), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/v2"), backend="echo-v2", namespace=MESH),
    Expect(Request(path="/v2/example"), backend="echo-v2", namespace=MESH),
    Expect(Request(path="/", headers={"Version": "two"}), backend="echo-v2", namespace=MESH),
    Expect(Request(path="/v2/"), backend="echo-v2", namespace=MESH),
    # Not a path segment prefix so should not match /v2.
    Expect(Request(path="/v2example"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/foo/v2/example"), backend="echo-v1", namespace=MESH),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteMatching",
    description="A single HTTPRoute with path and header matching for different backends",
    manifests=("mesh/httproute-matching.yaml",),
    features=("Mesh", "HTTPRoute"),
    body=body,
    source=MESH_SOURCE.format("httproute-matching.go"),
)
