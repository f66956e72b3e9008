"""TLSRouteInvalidReferenceGrant (conformance/tests/tlsroute-invalid-reference-grant.go): A single TLSRoute in the gateway-conformance-infra namespace, with a backendRef in another namespace without valid ReferenceGrant, should have the ResolvedRefs condition set to False."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import tls_routes_accepted
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "gateway-tlsroute-referencegrant")
    route = Key(INFRA, "gateway-conformance-infra-test")
    tls_routes_accepted(t, gw, route)
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "RefNotPermitted"), route_kind="TLSRoute")


TEST = ConformanceTest(
    short_name="TLSRouteInvalidReferenceGrant",
    description="A single TLSRoute in the gateway-conformance-infra namespace, with a backendRef in another namespace without valid ReferenceGrant, should have the ResolvedRefs condition set to False",
    manifests=("tlsroute-invalid-reference-grant.yaml",),
    features=("Gateway", "TLSRoute", "ReferenceGrant"),
    body=body,
    source="conformance/tests/tlsroute-invalid-reference-grant.go @ 4564255ac2c3",
)
