"""GRPCExactMethodMatching (conformance/tests/grpcroute-exact-method-matching.go): a service and
method match selects its backend; a method no rule matches answers UNIMPLEMENTED."""

import grpc

from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect
from ..suite import Checks, ConformanceTest

CASES = (
    GrpcExpect(backend="grpc-infra-backend-v1"),
    GrpcExpect(method="EchoTwo", backend="grpc-infra-backend-v2"),
    GrpcExpect(method="EchoThree", code=grpc.StatusCode.UNIMPLEMENTED),

)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "exact-matching"),
                                            route_kind="GRPCRoute")
    for i, case in enumerate(CASES):
        t.expect_grpc(address, case, i)


TEST = ConformanceTest(
    short_name="GRPCExactMethodMatching",
    description="A single GRPCRoute with exact method matching for different backends",
    manifests=("grpcroute-exact-method-matching.yaml",),
    features=("Gateway", "GRPCRoute"),
    body=body,
    source="conformance/tests/grpcroute-exact-method-matching.go @ 4564255ac2c3",
)
