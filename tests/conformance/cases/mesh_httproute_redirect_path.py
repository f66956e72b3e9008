"""MeshHTTPRouteRedirectPath (conformance/tests/mesh/httproute-redirect-path.go): prefix and full path
redirects, alone and with a hostname or status code."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all


def _case(sent: str, status: int, **redirect: str) -> Expect:
    return Expect(Request(host="echo", path=sent), response=Response(status=status), redirect=Redirect(**redirect),
                  namespace=MESH)


CASES = (
    _case("/original-prefix/lemon", 302, path="/replacement-prefix/lemon"),
    _case("/full/path/original", 302, path="/full-path-replacement"),
    _case("/path-and-host", 302, host="example.org", path="/replacement-prefix"),
    _case("/path-and-status", 301, path="/replacement-prefix"),
    _case("/full-path-and-host", 302, host="example.org", path="/replacement-full"),
    _case("/full-path-and-status", 301, path="/replacement-full"),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteRedirectPath",
    description="An HTTPRoute with scheme redirect filter",
    manifests=("mesh/httproute-redirect-path.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteRedirectPath"),
    body=body,
    source=MESH_SOURCE.format("httproute-redirect-path.go"),
)
