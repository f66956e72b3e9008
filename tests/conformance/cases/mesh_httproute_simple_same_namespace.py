"""MeshHTTPRouteSimpleSameNamespace (conformance/tests/mesh/httproute-simple-same-namespace.go): a
route on Service echo sends everything to echo-v1."""

from ..expect import MESH, Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (Expect(Request(path="/", host="echo"), response=Response(status=200), backend="echo-v1", namespace=MESH,
                name="Simple HTTP request should reach infra-backend"),)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteSimpleSameNamespace",
    description="A single HTTPRoute in the gateway-conformance-mesh namespace attaches to a Service in the same "
                "namespace",
    manifests=("mesh/httproute-simple-same-namespace.yaml",),
    features=("Mesh", "HTTPRoute"),
    body=body,
    source=MESH_SOURCE.format("httproute-simple-same-namespace.go"),
)
