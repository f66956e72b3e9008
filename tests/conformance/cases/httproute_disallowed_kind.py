"""HTTPRouteDisallowedKind (conformance/tests/httproute-disallowed-kind.go): an HTTPRoute whose
Gateway's only listener allows TLSRoutes is not accepted (NotAllowedByListeners), and the
listener counts no route."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    route, gw = Key(INFRA, "disallowed-kind"), Key(INFRA, "tlsroutes-only")
    t.route_resolved_refs(route, gw)
    t.route_condition(route, gw, Condition("Accepted", "False", "NotAllowedByListeners"))
    t.route_no_accepted_parents(route)
    t.gateway_zero_routes(gw)


TEST = ConformanceTest(
    short_name="HTTPRouteDisallowedKind",
    description="A single HTTPRoute in the gateway-conformance-infra namespace should fail to attach to a Gateway "
                "with no listeners that allow the HTTPRoute kind",
    manifests=("httproute-disallowed-kind.yaml",),
    features=("Gateway", "HTTPRoute", "TLSRoute"),
    body=body,
    source="conformance/tests/httproute-disallowed-kind.go @ 4564255ac2c3",
)
