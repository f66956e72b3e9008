"""BackendTLSPolicyGRPCRoute (conformance/tests/backendtlspolicy-grpcroute.go): a GRPCRoute's
backend targeted by a BackendTLSPolicy is reached over TLS (HTTP/2 by ALPN to the gRPC echo's TLS
port); a hostname the certificate lacks, or a CA that did not sign it, makes the RPC fail."""

from typing import cast

import grpc

from ..backend_tls_checks import ACCEPTED, RESOLVED_REFS, SAME_NAMESPACE, policy_has
from ..expect import INFRA, GatewayRef, Key
from ..grpc_client import GrpcExpect, send_rpc
from ..stream_checks import StreamChecks
from ..suite import Checks, Condition, ConformanceTest

ROUTE = Key(INFRA, "backendtlspolicy-grpcroute")
CERT_MISMATCH_ROUTE = Key(INFRA, "backendtlspolicy-grpcroute-cert-mismatch")
GATEWAY = GatewayRef(INFRA, "same-namespace")


def _route_accepted(t: Checks, route: Key) -> None:
    """GatewayAndRoutesMustBeAccepted for a GRPCRoute (its parent entry: Accepted=True/Accepted)."""
    t.route_condition(route, SAME_NAMESPACE, Condition("Accepted", "True", "Accepted"),
                      route_kind="GRPCRoute")  # type: ignore[call-arg]


def _fails(t: Checks, address: str, method: str, authority: str) -> None:
    """grpc.MakeRequestAndExpectEventuallyConsistentFailure: the RPC consistently does not succeed."""
    streams = cast(StreamChecks, t)
    streams.expect_consistently(
        f"{authority}/{method} should fail",
        lambda: "succeeded" if send_rpc(address, method, authority).code == grpc.StatusCode.OK else None)


def body(t: Checks) -> None:
    address = t.gateway_address(GATEWAY)
    _route_accepted(t, ROUTE)
    policy_has(t, "grpc-normative-test", ACCEPTED, RESOLVED_REFS)
    cast(StreamChecks, t).expect_grpc(address, GrpcExpect(authority="abc.example.com", backend="grpc-infra-backend-v1"))
    policy_has(t, "grpc-host-mismatch", ACCEPTED, RESOLVED_REFS)
    _fails(t, address, "EchoTwo", "abc.example.com")
    _route_accepted(t, CERT_MISMATCH_ROUTE)
    policy_has(t, "grpc-cert-mismatch", ACCEPTED, RESOLVED_REFS)
    _fails(t, address, "Echo", "cert-mismatch.example.com")


TEST = ConformanceTest(
    short_name="BackendTLSPolicyGRPCRoute",
    description="A BackendTLSPolicy attached to a Service consumed by a GRPCRoute should configure TLS between "
                "gateway and backend",
    manifests=("backendtlspolicy-grpcroute.yaml",),
    features=("Gateway", "GRPCRoute", "BackendTLSPolicy"),
    body=body,
    source="conformance/tests/backendtlspolicy-grpcroute.go @ 4564255ac2c3",
)
