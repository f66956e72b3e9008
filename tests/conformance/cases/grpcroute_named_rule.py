"""GRPCRouteNamedRule (conformance/tests/grpcroute-named-rule.go): rules with names route as
unnamed ones do."""

from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect
from ..suite import Checks, ConformanceTest

CASES = (
    GrpcExpect(backend="grpc-infra-backend-v1"),
    GrpcExpect(method="EchoTwo", backend="grpc-infra-backend-v2"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "grpc-named-rules"),
                                            route_kind="GRPCRoute")
    for i, case in enumerate(CASES):
        t.expect_grpc(address, case, i)


TEST = ConformanceTest(
    short_name="GRPCRouteNamedRule",
    description="A GRPCRoute with a named GRPCRouteRule",
    manifests=("grpcroute-named-rule.yaml",),
    features=("Gateway", "GRPCRoute", "GRPCRouteNamedRouteRule"),
    body=body,
    provisional=True,
    source="conformance/tests/grpcroute-named-rule.go @ 4564255ac2c3",
)
