"""MeshFrontendHostname (conformance/tests/mesh/mesh-frontend-hostname.go): a Service parentRef matches
the Service's ClusterIP, not the Host header."""

from ..expect import Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (
    Expect(Request(host="echo-v2", headers={"Host": "echo-v1"}, method="GET"),
           response=Response(status=200, headers={"X-Header-Set": "set"}), backend="echo-v2",
           name="Send to service with wrong hostname"),
    Expect(Request(host="echo-v1", headers={"Host": "echo-v2"}, method="GET"),
           response=Response(status=200, absent_headers=("X-Header-Set",)), backend="echo-v1",
           name="Send to other service with matching hostname"),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshFrontendHostname",
    description="Mesh parentRef matches Service IP (not Host)",
    manifests=("mesh/mesh-frontend.yaml",),
    features=("Mesh", "MeshClusterIPMatching", "HTTPRoute", "HTTPRouteResponseHeaderModification"),
    body=body,
    source=MESH_SOURCE.format("mesh-frontend-hostname.go"),
)
