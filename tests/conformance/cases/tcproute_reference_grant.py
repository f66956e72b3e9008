"""TCPRouteReferenceGrant (conformance/tests/tcproute-reference-grant.go): A single TCPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-web-backend namespace, should attach to a Gateway in the gateway-conformance-infra namespace when a ReferenceGrant in the backend namespace permits the reference."""

from ..expect import INFRA, WEB_BACKEND, GatewayRef, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "tcp-reference-grant-gateway", ("tcp",))
    route = Key(INFRA, "tcp-reference-grant")
    address = t.gateway_and_routes_accepted(gw, route, route_kind="TCPRoute")
    t.expect_tcp(address, "tcp-reference-grant-backend", WEB_BACKEND)
    t.delete("ReferenceGrant", Key(WEB_BACKEND, "tcp-reference-grant"))
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "RefNotPermitted"), route_kind="TCPRoute")


TEST = ConformanceTest(
    short_name="TCPRouteReferenceGrant",
    description="A single TCPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-web-backend namespace, should attach to a Gateway in the gateway-conformance-infra namespace when a ReferenceGrant in the backend namespace permits the reference.",
    manifests=("tcproute-reference-grant.yaml",),
    features=('Gateway', 'TCPRoute', 'ReferenceGrant'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-reference-grant.go @ 4564255ac2c3",
)
