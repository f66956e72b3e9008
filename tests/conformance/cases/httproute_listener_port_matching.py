"""HTTPRouteListenerPortMatching (conformance/tests/httproute-listener-port-matching.go): routes attach by
parentRef port (and sectionName) to listeners on different ports; each request goes to the port named in
its Host."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest

ROUTE_1 = Key(INFRA, "backend-v1")
ROUTE_2 = Key(INFRA, "backend-v2")
ROUTE_3 = Key(INFRA, "backend-v3")
GATEWAY_NAME = "httproute-listener-port-matching"
GATEWAY = Key(INFRA, GATEWAY_NAME)

CASES = (
    Expect(Request(host="foo.com", path="/"), backend="infra-backend-v1"),
    Expect(Request(host="foo.com:8080", path="/"), backend="infra-backend-v2"),
    Expect(Request(host="bar.com:8080", path="/"), backend="infra-backend-v2"),
    Expect(Request(host="foo.com:8090", path="/"), backend="infra-backend-v3"),
    Expect(Request(host="bar.com:8090", path="/"), response=Response(status=404)),
)


def body(t: Checks) -> None:
    address_80 = t.gateway_and_routes_accepted(GatewayRef(INFRA, GATEWAY_NAME, ("listener-1",)), ROUTE_1)
    t.route_resolved_refs(ROUTE_1, GATEWAY)

    address_8080 = t.gateway_and_routes_accepted(GatewayRef(INFRA, GATEWAY_NAME, ("listener-2",)), ROUTE_2)
    t.route_resolved_refs(ROUTE_2, GATEWAY)

    address_8090 = t.gateway_and_routes_accepted(GatewayRef(INFRA, GATEWAY_NAME, ("listener-4",)), ROUTE_3)
    t.route_resolved_refs(ROUTE_3, GATEWAY)

    # The Go test picks the address by the port in the Host; anything else goes to port 80.
    by_port = {"8080": address_8080, "8090": address_8090}
    for case in CASES:
        _, _, port = case.request.host.partition(":")
        t.expect(by_port.get(port, address_80), case)


TEST = ConformanceTest(
    short_name="HTTPRouteListenerPortMatching",
    description="Multiple HTTP listeners with different ports, each with a different HTTPRoute",
    manifests=("httproute-listener-port-matching.yaml",),
    features=("Gateway", "HTTPRoute", "HTTPRouteParentRefPort"),
    body=body,
    source="conformance/tests/httproute-listener-port-matching.go @ ff1975b3b29e07e39fa589af806dedbfa8131853",
)
