"""MeshPorts (conformance/tests/mesh/mesh-ports.go): a route whose parentRef names port 80 of echo-v1
governs that port only; one without a port governs every port of echo-v2."""

from ..expect import Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (
    Expect(Request(host="echo-v1", method="GET"), response=Response(status=200, headers={"X-Header-Set": "v1"}),
           backend="echo-v1", name="Explicit port set, send to that port"),
    Expect(Request(host="echo-v1:8080", method="GET"), response=Response(status=200, absent_headers=("X-Header-Set",)),
           backend="echo-v1", name="Explicit port, send to an excluded port"),
    Expect(Request(host="echo-v2", method="GET"), response=Response(status=200, headers={"X-Header-Set": "v2"}),
           backend="echo-v2", name="No port set"),
    Expect(Request(host="echo-v2:8080", method="GET"), response=Response(status=200, headers={"X-Header-Set": "v2"}),
           backend="echo-v2", name="No port set"),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshPorts",
    description="A mesh route can optionally configure 'port' in parentRef",
    manifests=("mesh/mesh-ports.yaml",),
    features=("Mesh", "HTTPRoute", "HTTPRouteParentRefPort", "HTTPRouteResponseHeaderModification"),
    body=body,
    source=MESH_SOURCE.format("mesh-ports.go"),
)
