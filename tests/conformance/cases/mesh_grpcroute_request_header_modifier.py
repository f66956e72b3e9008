"""MeshGRPCRouteRequestHeaderModifier (conformance/tests/mesh/grpcroute-request-header-modifier.go):
gRPC calls to echo:7070 carrying `x-test-case` pick a rule of the GRPCRoute on the Service echo,
whose RequestHeaderModifier sets, adds or removes metadata; the backend (echo-v1, or echo-v2 for
`multi`, sent from echo-v2's Pod) must see the result."""

from ..expect import GRPC, MESH, Expect, ExpectedRequest, Request, Response
from ..suite import ECHO_V1, ECHO_V2, MESH_SOURCE, Checks, ConformanceTest


def _case(name: str, case: str, backend: str, sent: dict[str, str], want: dict[str, str],
          absent: tuple[str, ...] = ()) -> tuple[str, Expect]:
    """One row: the app its client Pod belongs to (that of `backend`), and what it expects."""
    request = Request(protocol=GRPC, path="", host="echo:7070", headers={"x-test-case": case, **sent})
    expected = Expect(request, ExpectedRequest(headers={"x-test-case": case, **want}, absent_headers=absent),
                      Response(statuses=(200,)), backend=backend, namespace=MESH, name=name)
    return (ECHO_V1 if backend == "echo-v1" else ECHO_V2), expected


CASES = (
    _case("Set headers -- overwrites existing header", "set", "echo-v1",
          {"some-other-header": "this-header-should-be-set", "x-header-set": "this-value-should-be-overwritten"},
          {"some-other-header": "this-header-should-be-set", "x-header-set": "set-overwrites-values"}),
    _case("Add headers -- appends to existing header", "add", "echo-v1",
          {"x-header-add": "this-value-should-be-appended"},
          {"x-header-add": "this-value-should-be-appended,add-appends-values"}),
    _case("Remove headers -- removes headers", "remove", "echo-v1",
          {"x-header-remove": "this-should-be-removed"}, {}, ("x-header-remove",)),
    _case("Multiple operations -- set, add, and remove headers", "multi", "echo-v2",
          {"x-header-set-2": "set-header-2", "x-header-add-2": "add-header-2", "x-header-remove-2": "should-be-removed-2"},
          {"x-header-set-1": "header-set-1", "x-header-set-2": "header-set-2", "x-header-add-1": "header-add-1",
           "x-header-add-2": "add-header-2,header-add-2"},
          ("x-header-remove-1", "x-header-remove-2")),
)


def body(t: Checks) -> None:
    clients = {app: t.mesh_client(app) for app in (ECHO_V1, ECHO_V2)}
    for app, expected in CASES:
        t.mesh_expect(clients[app], expected)


TEST = ConformanceTest(
    short_name="MeshGRPCRouteRequestHeaderModifier",
    description="A GRPCRoute with RequestHeaderModifier filter should modify request headers in mesh mode",
    manifests=("mesh/grpcroute-request-header-modifier.yaml",),
    features=("Mesh", "GRPCRoute"),
    body=body,
    source=MESH_SOURCE.format("grpcroute-request-header-modifier.go"),
)
