"""BackendTLSPolicySANValidation (conformance/tests/backendtlspolicy-san.go): subjectAltNames of
type Hostname and URI (one or several) that the backend's certificate carries let requests
through; ones it lacks make them fail."""

from ..backend_tls_checks import ACCEPTED, FEATURES, policy_has, to
from ..expect import INFRA, GatewayRef, Key, Request
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backendtlspolicy-san-test")
GATEWAY = GatewayRef(INFRA, "same-namespace")
HOST = "abc.example.com"


def body(t: Checks) -> None:
    address = t.gateway_and_routes_accepted(GATEWAY, ROUTE)
    t.route_resolved_refs(ROUTE, GATEWAY.key)
    for policy, succeeds in (("san-dns", True), ("san-dns-mismatch", False), ("san-uri", True),
                             ("san-uri-mismatch", False), ("multiple-sans", True),
                             ("multiple-mismatch-sans", False)):
        policy_has(t, policy, ACCEPTED)
        if succeeds:
            t.expect(address, to(f"/backendtlspolicy-{policy}"))
        else:
            t.expect_failure(address, Request(host=HOST, path=f"/backendtlspolicy-{policy}"))


TEST = ConformanceTest(
    short_name="BackendTLSPolicySANValidation",
    description="BackendTLSPolicySANValidation extend BackendTLSPolicy with SubjectAltNames validation",
    manifests=("backendtlspolicy-san.yaml",),
    features=(*FEATURES, "BackendTLSPolicySANValidation"),
    body=body,
    source="conformance/tests/backendtlspolicy-san.go @ 4564255ac2c3",
)
