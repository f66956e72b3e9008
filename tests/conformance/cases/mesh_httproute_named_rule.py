"""MeshHTTPRouteNamedRule (conformance/tests/mesh/httproute-named-rule.go, provisional): a named and an
unnamed rule both route. (Upstream's second row expects path /named for /unnamed; its mesh client
does not compare paths, and neither does this one.)"""

from ..expect import MESH, Expect, ExpectedRequest, Request
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CASES = (
    Expect(Request(path="/named"), ExpectedRequest(path="/named"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/unnamed"), ExpectedRequest(path="/named"), backend="echo-v2", namespace=MESH),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteNamedRule",
    description="An HTTPRoute with a named HTTPRouteRule",
    manifests=("mesh/httproute-named-rule.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteNamedRouteRule"),
    body=body,
    provisional=True,
    source=MESH_SOURCE.format("httproute-named-rule.go"),
)
