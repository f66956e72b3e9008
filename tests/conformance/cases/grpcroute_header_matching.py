"""GRPCRouteHeaderMatching (conformance/tests/grpcroute-header-matching.go): header matches, the
rule with more matching headers first; a request no rule matches answers UNIMPLEMENTED."""

import grpc

from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect
from ..suite import Checks, ConformanceTest

CASES = (
    GrpcExpect(metadata={"Version": "one"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(metadata={"Version": "two"}, backend="grpc-infra-backend-v2"),
    GrpcExpect(metadata={"Version": "two", "Color": "orange"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(metadata={"Version": "two", "Color": "blue"}, backend="grpc-infra-backend-v2"),
    GrpcExpect(metadata={"Color": "orange"}, code=grpc.StatusCode.UNIMPLEMENTED),
    GrpcExpect(metadata={"Some-Other-Header": "one"}, code=grpc.StatusCode.UNIMPLEMENTED),
    GrpcExpect(metadata={"Color": "blue"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(metadata={"Color": "green"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(metadata={"Color": "red"}, backend="grpc-infra-backend-v2"),
    GrpcExpect(metadata={"Color": "yellow"}, backend="grpc-infra-backend-v2"),
    GrpcExpect(metadata={"Color": "purple"}, code=grpc.StatusCode.UNIMPLEMENTED),

)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "grpc-header-matching"),
                                            route_kind="GRPCRoute")
    for i, case in enumerate(CASES):
        t.expect_grpc(address, case, i)


TEST = ConformanceTest(
    short_name="GRPCRouteHeaderMatching",
    description="A single GRPCRoute with header matching for different backends",
    manifests=("grpcroute-header-matching.yaml",),
    features=("Gateway", "GRPCRoute"),
    body=body,
    source="conformance/tests/grpcroute-header-matching.go @ 4564255ac2c3",
)
