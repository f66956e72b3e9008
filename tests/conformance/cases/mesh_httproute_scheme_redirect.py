"""MeshHTTPRouteSchemeRedirect (conformance/tests/mesh/httproute-redirect-scheme.go): redirects to
https, alone and with a hostname and/or a status code."""

from ..expect import MESH, Expect, Redirect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all


def _case(sent: str, status: int, **redirect: str) -> Expect:
    return Expect(Request(host="echo", path=sent), response=Response(status=status), redirect=Redirect(**redirect),
                  namespace=MESH)


CASES = (
    _case("/scheme", 302, scheme="https"),
    _case("/scheme-and-host", 302, host="example.org", scheme="https"),
    _case("/scheme-and-status", 301, scheme="https"),
    _case("/scheme-and-host-and-status", 302, scheme="https", host="example.org"),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteSchemeRedirect",
    description="An HTTPRoute with a scheme redirect filter",
    manifests=("mesh/httproute-redirect-scheme.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteSchemeRedirect"),
    body=body,
    source=MESH_SOURCE.format("httproute-redirect-scheme.go"),
)
