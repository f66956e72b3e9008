"""MeshFrontend (conformance/tests/mesh/mesh-frontend.go): a route on Service echo-v2 applies to
requests to the Service, not to requests sent straight to an echo-v2 Pod's address."""

from ..expect import Expect, Request, Response
from ..suite import ECHO_V2, MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all


def body(t: Checks) -> None:
    v2 = t.mesh_client(ECHO_V2)
    mesh_expect_all(t, (
        Expect(Request(host="echo-v2", method="GET"), response=Response(status=200, headers={"X-Header-Set": "set"}),
               backend="echo-v2", name="Send to service"),
        Expect(Request(host=f"{v2.address}:8080", method="GET"),
               response=Response(status=200, absent_headers=("X-Header-Set",)), backend="echo-v2",
               name="Send to pod IP"),
    ))


TEST = ConformanceTest(
    short_name="MeshFrontend",
    description="Mesh rules should only apply to the associated frontend",
    manifests=("mesh/mesh-frontend.yaml",),
    features=("Mesh", "HTTPRoute", "HTTPRouteResponseHeaderModification"),
    body=body,
    source=MESH_SOURCE.format("mesh-frontend.go"),
)
