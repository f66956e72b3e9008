"""BackendTLSPolicy (conformance/tests/backendtlspolicy.go): re-encryption from an HTTPS listener
and from an HTTP one to the tls-backend Pods (SNI = the policy's hostname), failures for a hostname
the certificate lacks and for a CA that did not sign it, and a CA ConfigMap that appears, loses its
ca.crt and gets it back, each followed by the policy's status."""

from ..backend_tls_checks import (
    ACCEPTED,
    FEATURES,
    INVALID_CA_REF,
    KIND,
    NO_VALID_CA,
    RESOLVED_REFS,
    policy_has,
    to,
)
from ..expect import INFRA, Expect, ExpectedRequest, GatewayRef, Key, Request, Response
from ..suite import Checks, ConformanceTest

ROUTE = Key(INFRA, "backendtlspolicy")
REENCRYPT_ROUTE = Key(INFRA, "backendtlspolicy-reencrypt")
HTTPS_GATEWAY = GatewayRef(INFRA, "same-namespace-with-https-listener")
LISTENER_CERT = Key(INFRA, "tls-validity-checks-certificate")
SHARED_CA = Key(INFRA, "tls-checks-ca-certificate")
TEST_CA = "tls-checks-ca-certificate-reconcile-test"
RECONCILE = "reconcile-test"


def body(t: Checks) -> None:
    # Re-encrypt: TLS from the client to the HTTPS listener, TLS again to the backend.
    address = t.gateway_and_routes_accepted(HTTPS_GATEWAY, REENCRYPT_ROUTE)
    t.route_resolved_refs(REENCRYPT_ROUTE, HTTPS_GATEWAY.key)
    policy_has(t, "normative-test", ACCEPTED, RESOLVED_REFS, gateway=HTTPS_GATEWAY.key)
    t.expect(address, Expect(Request(host="https-listener.org", path="/backendtlspolicy"),
                             expected_request=ExpectedRequest(path="/backendtlspolicy", sni="abc.example.com"),
                             response=Response(status=200)),
             tls_cert=LISTENER_CERT, server_name="https-listener.org")

    gateway = GatewayRef(INFRA, "same-namespace")
    address = t.gateway_and_routes_accepted(gateway, ROUTE)
    t.route_resolved_refs(ROUTE, gateway.key)
    policy_has(t, "normative-test", ACCEPTED, RESOLVED_REFS)
    t.expect(address, to("/backendtlspolicy"))
    policy_has(t, "host-mismatch", ACCEPTED, RESOLVED_REFS)
    t.expect_failure(address, Request(host="abc.example.org", path="/backendtlspolicy-host-mismatch"))
    policy_has(t, "cert-mismatch", ACCEPTED, RESOLVED_REFS)
    t.expect_failure(address, Request(host="abc.example.com", path="/backendtlspolicy-cert-mismatch"))

    # A ConfigMap used as CA certificate changes: the policy's status follows it.
    policy_has(t, RECONCILE, ACCEPTED, RESOLVED_REFS)
    shared = t.get("ConfigMap", SHARED_CA)
    if shared is None:
        t.fail(f"ConfigMap {SHARED_CA} not found")
        return
    ca = shared["data"]["ca.crt"]
    t.patch(KIND, Key(INFRA, RECONCILE),
            {"spec": {"validation": {"caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": TEST_CA}]}}})
    policy_has(t, RECONCILE, NO_VALID_CA, INVALID_CA_REF, generation=2)
    t.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TEST_CA, "namespace": INFRA},
              "data": {"ca.crt": ca}})
    policy_has(t, RECONCILE, ACCEPTED, RESOLVED_REFS, generation=2)
    t.patch("ConfigMap", Key(INFRA, TEST_CA), {"data": {"ca.crt": ""}})
    policy_has(t, RECONCILE, NO_VALID_CA, INVALID_CA_REF, generation=2)
    t.patch("ConfigMap", Key(INFRA, TEST_CA), {"data": {"ca.crt": ca}})
    policy_has(t, RECONCILE, ACCEPTED, RESOLVED_REFS, generation=2)
    t.patch(KIND, Key(INFRA, RECONCILE),
            {"spec": {"validation": {"caCertificateRefs": [{"group": "", "kind": "ConfigMap",
                                                            "name": SHARED_CA.name}]}}})


TEST = ConformanceTest(
    short_name="BackendTLSPolicy",
    description="BackendTLSPolicy must be used to configure TLS connection between gateway and backend",
    manifests=("backendtlspolicy.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/backendtlspolicy.go @ 4564255ac2c3",
)
