"""HTTPRouteObservedGenerationBump (conformance/tests/httproute-observed-generation-bump.go): after
a spec change (its backend), the route's parent entry is Accepted, its references resolved, and
every condition carries the new generation."""

from ..expect import INFRA, Key
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "observed-generation-bump")
GATEWAY = Key(INFRA, "same-namespace")


def body(t: Checks) -> None:
    t.latest_generation("HTTPRoute", ROUTE, 1, GATEWAY)
    t.patch("HTTPRoute", ROUTE, {"spec": {"rules": [{"backendRefs": [{"name": "infra-backend-v2", "port": 8080}]}]}})
    t.latest_generation("HTTPRoute", ROUTE, 2, GATEWAY)


TEST = ConformanceTest(
    short_name="HTTPRouteObservedGenerationBump",
    description="A HTTPRoute in the gateway-conformance-infra namespace should update the observedGeneration in "
                "all of it's Status.Conditions after an update to the spec",
    manifests=("httproute-observed-generation-bump.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-observed-generation-bump.go @ 4564255ac2c3",
)
