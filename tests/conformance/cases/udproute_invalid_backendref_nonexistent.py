"""UDPRouteInvalidBackendRefNonexistent (conformance/tests/udproute-invalid-backendref-nonexistent.go): A UDPRoute should set ResolvedRefs=False with reason BackendNotFound when its backendRef points to a Service that does not exist."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    t.route_condition(Key(INFRA, "udp-route-invalid-backend-ref-nonexistent"), Key(INFRA, "udp-gateway-invalid-backend"),
                      Condition("ResolvedRefs", "False", "BackendNotFound"), route_kind="UDPRoute")


TEST = ConformanceTest(
    short_name="UDPRouteInvalidBackendRefNonexistent",
    description="A UDPRoute should set ResolvedRefs=False with reason BackendNotFound when its backendRef points to a Service that does not exist.",
    manifests=("udproute-invalid-backendref-nonexistent.yaml",),
    features=('Gateway', 'UDPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/udproute-invalid-backendref-nonexistent.go @ 4564255ac2c3",
)
