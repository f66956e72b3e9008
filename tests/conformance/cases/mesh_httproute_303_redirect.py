"""MeshHTTPRoute303Redirect (conformance/tests/mesh/httproute-303-redirect.go, provisional): a redirect
with status code 303, keeping the path."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (Expect(Request(path="/redirect"), response=Response(status=303), redirect=Redirect(path="/redirect"), namespace=MESH),)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRoute303Redirect",
    description="An HTTPRoute with statusCode 303 redirect filter",
    manifests=("mesh/httproute-303-redirect.yaml",),
    features=("Mesh", "HTTPRoute", "HTTPRoute303RedirectStatusCode"),
    body=body,
    provisional=True,
    source=MESH_SOURCE.format("httproute-303-redirect.go"),
)
