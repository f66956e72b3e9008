"""MeshHTTPRoute308Redirect (conformance/tests/mesh/httproute-308-redirect.go, provisional): a redirect
with status code 308, keeping the path."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (Expect(Request(path="/permanent"), response=Response(status=308), redirect=Redirect(path="/permanent"), namespace=MESH),)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRoute308Redirect",
    description="An HTTPRoute with statusCode 308 redirect filter",
    manifests=("mesh/httproute-308-redirect.yaml",),
    features=("Mesh", "HTTPRoute", "HTTPRoute308RedirectStatusCode"),
    body=body,
    provisional=True,
    source=MESH_SOURCE.format("httproute-308-redirect.go"),
)
