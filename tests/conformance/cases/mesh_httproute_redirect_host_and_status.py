"""MeshHTTPRouteRedirectHostAndStatus (conformance/tests/mesh/httproute-redirect-host-and-status.go):
redirects to example.org, with the default 302 and with 301."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (
    Expect(Request(host="echo", path="/hostname-redirect"), response=Response(status=302),
           redirect=Redirect(host="example.org"), namespace=MESH),
    Expect(Request(host="echo", path="/host-and-status"), response=Response(status=301),
           redirect=Redirect(host="example.org"), namespace=MESH),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteRedirectHostAndStatus",
    description="An HTTPRoute with hostname and statusCode redirect filters",
    manifests=("mesh/httproute-redirect-host-and-status.yaml",),
    features=("Mesh", "HTTPRoute"),
    body=body,
    source=MESH_SOURCE.format("httproute-redirect-host-and-status.go"),
)
