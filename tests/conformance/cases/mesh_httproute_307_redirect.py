"""MeshHTTPRoute307Redirect (conformance/tests/mesh/httproute-307-redirect.go, provisional): a redirect
with status code 307, keeping the path."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (Expect(Request(path="/temporary"), response=Response(status=307), redirect=Redirect(path="/temporary"), namespace=MESH),)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRoute307Redirect",
    description="An HTTPRoute with statusCode 307 redirect filter",
    manifests=("mesh/httproute-307-redirect.yaml",),
    features=("Mesh", "HTTPRoute", "HTTPRoute307RedirectStatusCode"),
    body=body,
    provisional=True,
    source=MESH_SOURCE.format("httproute-307-redirect.go"),
)
