"""TLSRouteInvalidBackendRefUnknownKind (conformance/tests/tlsroute-invalid-backendref-unknown-kind.go): A single TLSRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with reason InvalidKind when attempting to bind to a Gateway in the same namespace if the route has a BackendRef that points to an unknown Kind."""

from ..expect import INFRA, GatewayRef, Key
from ..stream_route_checks import tls_routes_accepted
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    gw = GatewayRef(INFRA, "gateway-tlsroute-invalid-backend-ref-unknown-kind")
    route = Key(INFRA, "invalid-backend-ref-unknown-kind")
    address, hostnames = tls_routes_accepted(t, gw, route)
    t.route_condition(route, gw.key, Condition("ResolvedRefs", "False", "InvalidKind"), route_kind="TLSRoute")
    t.expect_tls_rejected(address, hostnames[0])


TEST = ConformanceTest(
    short_name="TLSRouteInvalidBackendRefUnknownKind",
    description="A single TLSRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with reason InvalidKind when attempting to bind to a Gateway in the same namespace if the route has a BackendRef that points to an unknown Kind.",
    manifests=("tlsroute-invalid-backendref-unknown-kind.yaml",),
    features=("Gateway", "TLSRoute"),
    body=body,
    source="conformance/tests/tlsroute-invalid-backendref-unknown-kind.go @ 4564255ac2c3",
)
