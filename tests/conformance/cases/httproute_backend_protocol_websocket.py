"""HTTPRouteBackendProtocolWebSocket (conformance/tests/httproute-backend-protocol-websocket.go): a
backendRef to a Service port with appProtocol kubernetes.io/ws carries a WebSocket."""

from ..expect import INFRA, GatewayRef, Key
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backend-protocol-ws")
GATEWAY = GatewayRef(INFRA, "same-namespace")
NAME = "websocket connection should reach backend"
# A text frame, then a binary one; each must be echoed unchanged.
MESSAGES = ("Websocket Support!", bytes([1, 2, 3, 4, 5, 6, 7]))


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    # upstream: origin ws://gateway/<t.Name()>, remote ws://<gwAddr>/ws
    t.expect_websocket(address, MESSAGES, NAME, path="/ws",
                       origin="ws://gateway/HTTPRouteBackendProtocolWebSocket/websocket_connection_should_reach_backend")


TEST = ConformanceTest(
    short_name="HTTPRouteBackendProtocolWebSocket",
    description="A HTTPRoute with a BackendRef that has an appProtocol kubernetes.io/ws should be functional",
    manifests=("httproute-backend-protocol-websocket.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteBackendProtocolWebSocket"),
    body=body,
    source="conformance/tests/httproute-backend-protocol-websocket.go @ 4564255ac2c35d582249b3cdf261bdf51c8bca32",
)
