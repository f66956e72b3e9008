"""MeshBasic (conformance/tests/mesh/mesh-basic.go): a mesh client reaches a mesh Service with no
route applied (the waypoint's default route to the Service)."""

from ..expect import Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (Expect(Request(host="echo", method="GET"), response=Response(status=200)),)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshBasic",
    description="A mesh client can communicate with a mesh server. This tests basic reachability with no "
                "configuration applied.",
    manifests=(),
    features=("Mesh",),
    body=body,
    source=MESH_SOURCE.format("mesh-basic.go"),
)
