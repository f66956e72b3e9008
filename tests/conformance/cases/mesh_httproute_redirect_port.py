"""MeshHTTPRouteRedirectPort (conformance/tests/mesh/httproute-redirect-port.go): redirects to port
8083, alone and with a hostname and/or a status code."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all


def _case(sent: str, status: int, **redirect: str) -> Expect:
    return Expect(Request(host="echo", path=sent), response=Response(status=status), redirect=Redirect(**redirect),
                  namespace=MESH)


CASES = (
    _case("/port", 302, port="8083"),
    _case("/port-and-host", 302, host="example.org", port="8083"),
    _case("/port-and-status", 301, port="8083"),
    _case("/port-and-host-and-status", 302, port="8083", host="example.org"),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteRedirectPort",
    description="An HTTPRoute with a port redirect filter",
    manifests=("mesh/httproute-redirect-port.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteRedirectPort"),
    body=body,
    source=MESH_SOURCE.format("httproute-redirect-port.go"),
)
