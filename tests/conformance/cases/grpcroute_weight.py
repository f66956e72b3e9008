"""GRPCRouteWeight (conformance/tests/grpcroute-weight.go): backends weighted 70/30/0 share 500
calls within five percentage points of their weights; the zero-weight backend gets none."""

import uuid

from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect, send_rpc
from ..stream_route_checks import expect_distribution
from ..suite import Checks, ConformanceTest

WEIGHTS = {"grpc-infra-backend-v1": 0.7, "grpc-infra-backend-v2": 0.3, "grpc-infra-backend-v3": 0.0}


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "weighted-backends"),
                                            route_kind="GRPCRoute")
    t.expect_grpc(address, GrpcExpect(name="a call succeeds before the distribution is measured"))

    def send() -> str:
        # grpc.AddEntropy: a random x-jitter header on every call.
        reply = send_rpc(address, metadata={"x-jitter": uuid.uuid4().hex})
        return str(reply.assertions.context.pod) if reply.response is not None else f"error {reply.code.name}"
    expect_distribution(t, send, WEIGHTS)


TEST = ConformanceTest(
    short_name="GRPCRouteWeight",
    description="A GRPCRoute with weighted backends",
    manifests=("grpcroute-weight.yaml",),
    features=("Gateway", "GRPCRoute"),
    body=body,
    source="conformance/tests/grpcroute-weight.go @ 4564255ac2c3",
)
