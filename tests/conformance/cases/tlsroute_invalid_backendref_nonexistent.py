"""TLSRouteInvalidBackendRefNonexistent (conformance/tests/tlsroute-invalid-backendref-nonexistent.go): A single TLSRoute in the gateway-conformance-infra namespace has a ResolvedRefs status False with reason BackendNotFound when binding to a Gateway in the same namespace, if the route has a BackendRef Service that does not exist."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import tls_routes_accepted
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "gateway-tlsroute-invalid-backend-ref-nonexistent")
    route = Key(INFRA, "invalid-backend-ref-nonexistent")
    address, hostnames = tls_routes_accepted(t, gw, route)
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "BackendNotFound"), route_kind="TLSRoute")
    t.expect_tls_rejected(address, hostnames[0])


TEST = ConformanceTest(
    short_name="TLSRouteInvalidBackendRefNonexistent",
    description="A single TLSRoute in the gateway-conformance-infra namespace has a ResolvedRefs status False with reason BackendNotFound when binding to a Gateway in the same namespace, if the route has a BackendRef Service that does not exist",
    manifests=("tlsroute-invalid-backendref-nonexistent.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-invalid-backendref-nonexistent.go @ 4564255ac2c3",
)
