"""MeshGRPCRouteWeight (conformance/tests/mesh/grpcroute-weight.go): a GRPCRoute on the Service echo's
gRPC port weighting echo-v1 and echo-v2 70/30 (echo-v3, weight 0, does not exist): gRPC calls from
echo-v1's Pod to echo:7070 must share a batch of 500 within five percentage points of the weights
(weight.TestWeightedDistributionBatch, up to 10 attempts), as the HTTPRoute variant's."""

from ..expect import GRPC, MESH, Expect, Request, Response
from ..suite import MESH_SOURCE, Checks, ConformanceTest
from .mesh_httproute_weight import expect_weights

EXPECTED = Expect(Request(protocol=GRPC, path="", host="echo:7070"), response=Response(status=200), namespace=MESH,
                  name="Requests should have a distribution that matches the weight")
WEIGHTS = {"echo-v1": 0.7, "echo-v2": 0.3}


def body(t: Checks) -> None:
    expect_weights(t, EXPECTED, WEIGHTS)


TEST = ConformanceTest(
    short_name="MeshGRPCRouteWeight",
    description="A GRPCRoute with weighted backends in mesh mode",
    manifests=("mesh/grpcroute-weight.yaml",),
    features=("Mesh", "GRPCRoute"),
    body=body,
    source=MESH_SOURCE.format("grpcroute-weight.go") + " + conformance/utils/weight/weight.go (same commit)",
)
