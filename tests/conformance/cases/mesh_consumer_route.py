"""MeshConsumerRoute (conformance/tests/mesh/mesh-consumer-route.go): a route in the consumer namespace
on Service echo-v1 of the mesh namespace changes the requests from its own namespace only."""

from ..expect import MESH, MESH_CONSUMER, Expect, Request, Response
from ..suite import ECHO_V1, MESH_SOURCE, Checks, ConformanceTest, mesh_expect_all

CONSUMER = (Expect(Request(host="echo-v1.gateway-conformance-mesh", method="GET", path="/"),
                   response=Response(status=200, headers={"X-Header-Set": "set"}), backend="echo-v1",
                   name="request from consumer route's namespace modified by HTTPRoute"),)
PRODUCER = (Expect(Request(host="echo-v1.gateway-conformance-mesh", method="GET", path="/"),
                   response=Response(status=200, absent_headers=("X-Header-Set",)), backend="echo-v1",
                   name="request not from consumer route's namespace not modified by HTTPRoute"),)


def body(t: Checks) -> None:
    mesh_expect_all(t, CONSUMER, ECHO_V1, MESH_CONSUMER)
    mesh_expect_all(t, PRODUCER, ECHO_V1, MESH)


TEST = ConformanceTest(
    short_name="MeshConsumerRoute",
    description="An HTTPRoute in a namespace other than its parentRef's namespace only affects requests from the "
                "route's namespace",
    manifests=("mesh/mesh-consumer-route.yaml",),
    features=("Mesh", "MeshConsumerRoute", "HTTPRoute", "HTTPRouteResponseHeaderModification"),
    body=body,
    source=MESH_SOURCE.format("mesh-consumer-route.go"),
)
