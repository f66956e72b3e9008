"""MeshHTTPRouteQueryParamMatching (conformance/tests/mesh/httproute-query-param-matching.go): query
param matches alone, combined with path and header matches, ORed, and their precedence."""

from ..expect import MESH, Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

NOT_FOUND = Response(status=404)

CASES = (
    Expect(Request(path="/?animal=whale"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/?animal=dolphin"), backend="echo-v2", namespace=MESH),
    Expect(Request(path="/?animal=whale&otherparam=irrelevant"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/?animal=dolphin&color=yellow"), backend="echo-v2", namespace=MESH),
    Expect(Request(path="/?color=blue"), response=NOT_FOUND),
    Expect(Request(path="/?animal=dog"), response=NOT_FOUND),
    Expect(Request(path="/?animal=whaledolphin"), response=NOT_FOUND),
    Expect(Request(path="/"), response=NOT_FOUND),
    # Combinations with core match types.
    Expect(Request(path="/path1?animal=whale"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/?animal=whale", headers={"version": "one"}), backend="echo-v2", namespace=MESH),
    # (cond1 AND cond2) OR (cond3 AND cond4 AND cond5)
    Expect(Request(path="/path3?animal=shark"), backend="echo-v1", namespace=MESH),
    Expect(Request(path="/path4?animal=kraken", headers={"version": "three"}), backend="echo-v1", namespace=MESH),
    # A subset of ANDed conditions is not enough.
    Expect(Request(path="/?animal=shark"), response=NOT_FOUND),
    Expect(Request(path="/path4?animal=kraken"), response=NOT_FOUND),
    # Precedence: a path match wins over a query param match.
    Expect(Request(path="/path5?animal=hydra"), backend="echo-v1", namespace=MESH),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteQueryParamMatching",
    description="A single HTTPRoute with query param matching for different backends",
    manifests=("mesh/httproute-query-param-matching.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteQueryParamMatching"),
    body=body,
    source=MESH_SOURCE.format("httproute-query-param-matching.go"),
)
