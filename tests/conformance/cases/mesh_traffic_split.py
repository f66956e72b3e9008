"""MeshTrafficSplit (conformance/tests/mesh/mesh-split.go): Service echo split by exact path between
echo-v1 and echo-v2 (parentRef without a port)."""

from ..expect import Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (
    Expect(Request(host="echo", method="GET", path="/v1"), response=Response(status=200), backend="echo-v1"),
    Expect(Request(host="echo", method="GET", path="/v2"), response=Response(status=200), backend="echo-v2"),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshTrafficSplit",
    description="A mesh client can send traffic to a Service which is split between two versions",
    manifests=("mesh/mesh-split.yaml",),
    features=("Mesh", "HTTPRoute"),
    body=body,
    source=MESH_SOURCE.format("mesh-split.go"),
)
