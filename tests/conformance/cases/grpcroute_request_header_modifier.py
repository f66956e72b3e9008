"""GRPCRouteRequestHeaderModifier (conformance/tests/grpcroute-request-header-modifier.go): rules
with RequestHeaderModifier filters route each call to their backend (upstream's comparison checks
the routing, not the headers the backend saw)."""

from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect
from ..suite import Checks, ConformanceTest

CASES = (
    GrpcExpect(name="Set headers -- X-Header-Set should have the original value", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"Some-Other-Header": "this-header-should-be-set"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(name="Set headers -- X-Header-Set should get overwritten with the original value", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"Some-Other-Header": "this-header-should-be-set", "X-Header-Set": "this-value-should-be-overwritten"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(name="Add headers -- X-Header-Add should have the original value", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"Some-Other-Header": "this-header-should-be-set"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(name="Add headers -- X-Header-Add should append the new value to the original value", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"Some-Other-Header": "this-header-should-be-set", "X-Header-Add": "this-value-should-be-appended"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(name="Remove headers -- X-Header-Remove should be removed", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"X-Header-Remove": "this-should-be-removed"}, backend="grpc-infra-backend-v1"),
    GrpcExpect(name="Multiple operations - all header operations should be applied", method="EchoTwo", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"X-Header-Set-2": "set-header-2", "X-Header-Add-2": "add-header-2", "X-Header-Remove-2": "should-be-removed-2", "Some-Other-Header": "another-header-val"}, backend="grpc-infra-backend-v2"),
    GrpcExpect(name="Case sensitivity check for header names", method="EchoTwo", authority="gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", metadata={"x-header-set-1": "original-set-1", "x-header-add-1": "existing-add-1", "x-header-remove-1": "should-be-removed-1"}, backend="grpc-infra-backend-v2"),
)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GatewayRef(INFRA, "same-namespace"), Key(INFRA, "grpc-request-header-modifier"),
                                            route_kind="GRPCRoute")
    for i, case in enumerate(CASES):
        t.expect_grpc(address, case, i)


TEST = ConformanceTest(
    short_name="GRPCRouteRequestHeaderModifier",
    description="A GRPCRoute with RequestHeaderModifier filter should modify request headers",
    manifests=("grpcroute-request-header-modifier.yaml",),
    features=("Gateway", "GRPCRoute", "GRPCRouteRequestHeaderModifier"),
    body=body,
    source="conformance/tests/grpcroute-request-header-modifier.go @ 4564255ac2c3",
)
