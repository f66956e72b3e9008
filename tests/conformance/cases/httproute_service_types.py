"""HTTPRouteServiceTypes (conformance/tests/httproute-service-types.go): one route reaches a
Service with hand-written EndpointSlices, a headless Service (EndpointSlices from the controller)
and a headless Service with hand-written EndpointSlices; the test fills the hand-written IPv4
slices with infra-backend-v1's Pods (the IPv6 ones stay empty: the Pods have no IPv6 address)."""

from ..expect import INFRA, Expect, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "service-types")
GATEWAY = GatewayRef(INFRA, "same-namespace")
MANUAL = ("manual-endpointslices", "headless-manual-endpointslices")
MANAGED = ("headless",)


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    pods = t.pods(Key(INFRA, "infra-backend-v1"))
    if not pods:
        t.fail("expected 'infra-backend-v1' to have running Pods")
    endpoints = [{"addresses": [p.ip], "conditions": {"ready": True, "serving": True, "terminating": False},
                  "targetRef": {"kind": "Pod", "name": p.name, "namespace": p.namespace}} for p in pods]
    for prefix in MANUAL:
        # setupEndpointSlices: only the IPv4 slice gets endpoints; a family without any is left alone.
        t.patch("EndpointSlice", Key(INFRA, f"{prefix}-ip4"), {"endpoints": endpoints})
    for path in MANUAL + MANAGED:
        t.expect(address, Expect(Request(path=f"/{path}"), backend="infra-backend-v1"))


TEST = ConformanceTest(
    short_name="HTTPRouteServiceTypes",
    description="A single HTTPRoute should be able to route traffic to various service type backends",
    manifests=("httproute-service-types.yaml",),
    features=("Gateway", "HTTPRoute"),
    body=body,
    source="conformance/tests/httproute-service-types.go @ 4564255ac2c3",
)
