"""GatewaySecretMissingReferenceGrant (conformance/tests/gateway-secret-missing-reference-grant.go):
an HTTPS listener naming a certificate Secret in gateway-conformance-web-backend, with no
ReferenceGrant for the Secret of another namespace its listener names: the listener's ResolvedRefs
is False (RefNotPermitted)."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAY = Key(INFRA, "gateway-secret-missing-reference-grant")
LISTENER = ExpectedListener("https", 0, conditions=(Condition("ResolvedRefs", "False", "RefNotPermitted"),))


def body(t: Checks) -> None:
    t.gateway_listeners(GATEWAY, (LISTENER,))


TEST = ConformanceTest(
    short_name="GatewaySecretMissingReferenceGrant",
    description="A Gateway in the gateway-conformance-infra namespace should fail to become programmed if the Gateway "
                "has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a "
                "ReferenceGrant granting permission to the Secret does not exist",
    manifests=("gateway-secret-missing-reference-grant.yaml",),
    features=("Gateway", "ReferenceGrant"),
    body=body,
    source="conformance/tests/gateway-secret-missing-reference-grant.go @ 4564255ac2c3",
)
