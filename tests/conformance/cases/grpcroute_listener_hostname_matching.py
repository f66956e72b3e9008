"""GRPCRouteListenerHostnameMatching (conformance/tests/grpcroute-listener-hostname-matching.go):
GRPCRoutes attached to listeners with different hostnames; the :authority picks the listener."""

import grpc

from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect
from ..suite import Checks, ConformanceTest

CASES = (
    GrpcExpect(authority="bar.com", backend="grpc-infra-backend-v1"),
    GrpcExpect(authority="foo.bar.com", backend="grpc-infra-backend-v2"),
    GrpcExpect(authority="baz.bar.com", backend="grpc-infra-backend-v3"),
    GrpcExpect(authority="boo.bar.com", backend="grpc-infra-backend-v3"),
    GrpcExpect(authority="multiple.prefixes.bar.com", backend="grpc-infra-backend-v3"),
    GrpcExpect(authority="multiple.prefixes.foo.com", backend="grpc-infra-backend-v3"),
    GrpcExpect(authority="foo.com", code=grpc.StatusCode.UNIMPLEMENTED),
    GrpcExpect(authority="no.matching.host", code=grpc.StatusCode.UNIMPLEMENTED),

)


def body(t: Checks) -> None:
    gw = "grpcroute-listener-hostname-matching"
    t.gateway_and_routes_accepted(GatewayRef(INFRA, gw, ("listener-1",)), Key(INFRA, "backend-v1"), route_kind="GRPCRoute")
    t.gateway_and_routes_accepted(GatewayRef(INFRA, gw, ("listener-2",)), Key(INFRA, "backend-v2"), route_kind="GRPCRoute")
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, gw, ("listener-3", "listener-4")),
                                            Key(INFRA, "backend-v3"), route_kind="GRPCRoute")
    for i, case in enumerate(CASES):
        t.expect_grpc(address, case, i)


TEST = ConformanceTest(
    short_name="GRPCRouteListenerHostnameMatching",
    description="Multiple GRPC listeners with the same port and different hostnames, each with a different GRPCRoute",
    manifests=("grpcroute-listener-hostname-matching.yaml",),
    features=("Gateway", "GRPCRoute"),
    body=body,
    source="conformance/tests/grpcroute-listener-hostname-matching.go @ 4564255ac2c3",
)
