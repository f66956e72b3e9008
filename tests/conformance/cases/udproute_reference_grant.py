"""UDPRouteReferenceGrant (conformance/tests/udproute-reference-grant.go): A UDPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-app-backend namespace, should attach to the Gateway and forward UDP traffic to the backend while a ReferenceGrant permits the cross-namespace reference."""

from ..expect import APP_BACKEND, INFRA, GatewayRef, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "udp-gateway-reference-grant")
    route = Key(INFRA, "udp-route-reference-grant")
    address = t.gateway_and_routes_accepted(gw, route, route_kind="UDPRoute")
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "True", "ResolvedRefs"), route_kind="UDPRoute")
    t.expect_udp(address)
    t.delete("ReferenceGrant", Key(APP_BACKEND, "udp-reference-grant"))
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "RefNotPermitted"), route_kind="UDPRoute")


TEST = ConformanceTest(
    short_name="UDPRouteReferenceGrant",
    description="A UDPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-app-backend namespace, should attach to the Gateway and forward UDP traffic to the backend while a ReferenceGrant permits the cross-namespace reference.",
    manifests=("udproute-reference-grant.yaml",),
    features=('Gateway', 'UDPRoute', 'ReferenceGrant'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-reference-grant.go @ 4564255ac2c3",
)
