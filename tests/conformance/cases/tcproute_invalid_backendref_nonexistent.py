"""TCPRouteInvalidBackendRefNonexistent (conformance/tests/tcproute-invalid-backendref-nonexistent.go): A TCPRoute should set ResolvedRefs=False with reason BackendNotFound when its backendRef points to a Service that does not exist."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    t.route_condition(Key(INFRA, "tcp-route-invalid-backend-ref-nonexistent"), Key(INFRA, "tcp-gateway-invalid-backend"),
                      Condition("ResolvedRefs", "False", "BackendNotFound"), route_kind="TCPRoute")


TEST = ConformanceTest(
    short_name="TCPRouteInvalidBackendRefNonexistent",
    description="A TCPRoute should set ResolvedRefs=False with reason BackendNotFound when its backendRef points to a Service that does not exist.",
    manifests=("tcproute-invalid-backendref-nonexistent.yaml",),
    features=('Gateway', 'TCPRoute'),
    body=body,
    provisional=True,
    source="conformance/tests/tcproute-invalid-backendref-nonexistent.go @ 4564255ac2c3",
)
