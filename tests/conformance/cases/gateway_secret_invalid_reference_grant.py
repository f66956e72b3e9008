"""GatewaySecretInvalidReferenceGrant (conformance/tests/gateway-secret-invalid-reference-grant.go):
an HTTPS listener naming a certificate Secret in gateway-conformance-web-backend, with a
ReferenceGrant that permits another Secret than the one its listener names: the listener's
ResolvedRefs is False (RefNotPermitted)."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAY = Key(INFRA, "gateway-secret-invalid-reference-grant")
LISTENER = ExpectedListener("https", 0, conditions=(Condition("ResolvedRefs", "False", "RefNotPermitted"),))


def body(t: Checks) -> None:
    t.gateway_listeners(GATEWAY, (LISTENER,))


TEST = ConformanceTest(
    short_name="GatewaySecretInvalidReferenceGrant",
    description="A Gateway in the gateway-conformance-infra namespace should fail to become ready if the Gateway has "
                "a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant "
                "exists but does not grant permission to that specific Secret",
    manifests=("gateway-secret-invalid-reference-grant.yaml",),
    features=("Gateway", "ReferenceGrant"),
    body=body,
    source="conformance/tests/gateway-secret-invalid-reference-grant.go @ 4564255ac2c3",
)
