"""GatewaySecretReferenceGrantAllInNamespace (conformance/tests/gateway-secret-reference-grant-all-
in-namespace.go): an HTTPS listener naming a certificate Secret in gateway-conformance-web-
backend, with a ReferenceGrant for every Secret of the namespace: the listener resolves its
certificate and is Programmed."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest, ExpectedListener

GATEWAY = Key(INFRA, "gateway-secret-reference-grant-all-in-namespace")
LISTENER = ExpectedListener("https", 0, conditions=(Condition("Programmed", "True", "Programmed"),
                                                   Condition("ResolvedRefs", "True")))


def body(t: Checks) -> None:
    t.gateway_listeners(GATEWAY, (LISTENER,))


TEST = ConformanceTest(
    short_name="GatewaySecretReferenceGrantAllInNamespace",
    description="A Gateway in the gateway-conformance-infra namespace should become programmed if the Gateway has a "
                "certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant "
                "granting permission to all Secrets in the namespace exists",
    manifests=("gateway-secret-reference-grant-all-in-namespace.yaml",),
    features=("Gateway", "ReferenceGrant"),
    body=body,
    source="conformance/tests/gateway-secret-reference-grant-all-in-namespace.go @ 4564255ac2c3",
)
