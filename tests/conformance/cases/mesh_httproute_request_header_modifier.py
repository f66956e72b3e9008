"""MeshHTTPRouteRequestHeaderModifier (conformance/tests/mesh/httproute-request-header-modifier.go):
set, add and remove request headers, names compared without case (rule filters)."""

from ..expect import MESH, Expect, ExpectedRequest, Request
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all


def _case(path: str, sent: dict[str, str], want: dict[str, str], absent: tuple[str, ...] = ()) -> Expect:
    return Expect(Request(path=path, headers=sent), ExpectedRequest(path=path, headers=want, absent_headers=absent),
                  backend="echo-v1", namespace=MESH)


CASES = (
    _case("/set", {"Some-Other-Header": "val"},
          {"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}),
    _case("/set", {"Some-Other-Header": "val", "X-Header-Set": "some-other-value"},
          {"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}),
    _case("/add", {"Some-Other-Header": "val"}, {"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"}),
    _case("/add", {"Some-Other-Header": "val", "X-Header-Add": "some-other-value"},
          {"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"}),
    _case("/remove", {"X-Header-Remove": "val"}, {}, ("X-Header-Remove",)),
    _case("/multiple", {"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2",
                        "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val"},
          {"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
           "X-Header-Add-2": "add-val-2,header-add-2", "X-Header-Add-3": "header-add-3",
           "Another-Header": "another-header-val"},
          ("X-Header-Remove-1", "X-Header-Remove-2")),
    # The filter uses canonicalized header names, the request lowercase names.
    _case("/case-insensitivity", {"x-header-set": "original-val-set", "x-header-add": "original-val-add",
                                  "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"},
          {"X-Header-Set": "header-set", "X-Header-Add": "original-val-add,header-add",
           "Another-Header": "another-header-val"},
          ("x-header-remove", "X-Header-Remove")),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteRequestHeaderModifier",
    description="An HTTPRoute has request header modifier filters applied correctly",
    manifests=("mesh/httproute-request-header-modifier.yaml",),
    features=("Mesh", "HTTPRoute"),
    body=body,
    source=MESH_SOURCE.format("httproute-request-header-modifier.go"),
)
