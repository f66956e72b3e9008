"""MeshHTTPRouteRewritePath (conformance/tests/mesh/httproute-rewrite-path.go): prefix and full path
rewrites, alone and with request header modifiers."""

from ..expect import MESH, Expect, ExpectedRequest, Request
from ..suite import MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

SENT = {"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Set": "set-val"}
MODIFIED = {"X-Header-Add": "header-val-1", "X-Header-Add-Append": "append-val-1,header-val-2",
            "X-Header-Set": "set-overwrites-values"}


def _case(path: str, rewritten: str, sent: dict[str, str] | None = None, want: dict[str, str] | None = None,
          absent: tuple[str, ...] = ()) -> Expect:
    return Expect(Request(host="echo", path=path, headers=sent or {}),
                  ExpectedRequest(path=rewritten, headers=want or {}, absent_headers=absent),
                  backend="echo-v1", namespace=MESH)


CASES = (
    _case("/prefix/one/two", "/one/two"),
    _case("/strip-prefix/three", "/three"),
    _case("/strip-prefix", "/"),
    _case("/full/one/two", "/one"),
    _case("/full/rewrite-path-and-modify-headers/test", "/test", SENT, MODIFIED, ("X-Header-Remove",)),
    _case("/prefix/rewrite-path-and-modify-headers/one", "/prefix/one", SENT, MODIFIED, ("X-Header-Remove",)),
)


def body(t: Checks) -> None:
    mesh_expect_all(t, CASES)


TEST = ConformanceTest(
    short_name="MeshHTTPRouteRewritePath",
    description="An HTTPRoute with path rewrite filter",
    manifests=("mesh/httproute-rewrite-path.yaml",),
    features=("Mesh", "HTTPRoute", "MeshHTTPRouteRewritePath"),
    body=body,
    source=MESH_SOURCE.format("httproute-rewrite-path.go"),
)
