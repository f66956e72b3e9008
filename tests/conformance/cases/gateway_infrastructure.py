"""GatewayInfrastructure (conformance/tests/gateway-infrastructure.go): the labels and annotations of a
Gateway's spec.infrastructure are on what is created for it, found by the gateway-name label.

Through the Kubernetes provider (kube_suite.py) the ServiceAccount, Pod and Service the provisioner
and the test kubelet create are listed from the API, as upstream lists them. Without Kubernetes,
meshgate creates no ServiceAccount, Pod or Service: what it creates for a Gateway is its managed
Envoy, which stands in for the Pod (Checks.generated); the ServiceAccount and Service assertions
are then reported as not checked."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

GATEWAY = Key(INFRA, "gateway-with-infrastructure-metadata")


def body(t: Checks) -> None:
    t.gateway_latest_conditions(GATEWAY)
    t.gateway_condition(GATEWAY, Condition("Accepted", "True"))

    infrastructure = t.gateway_spec(GATEWAY)["infrastructure"]
    annotations = {str(k): str(v) for k, v in infrastructure.get("annotations", {}).items()}
    labels = {str(k): str(v) for k, v in infrastructure.get("labels", {}).items()}
    found = t.generated(GATEWAY)
    if not found:
        t.fail("expected to find a ServiceAccount, Pod, or Service with the gateway-name label")
    if not {"ServiceAccount", "Service"} & {g.kind for g in found}:
        t.not_checked("ServiceAccounts and Services with the gateway-name label: without Kubernetes meshgate "
                      "creates none (they come with the Kubernetes provisioner); the Gateway's managed Envoy "
                      "stands in for its Pod, its node metadata's labels and annotations checked")
    for obj in found:
        missing_labels = {k: v for k, v in labels.items() if obj.labels.get(k) != v}
        if missing_labels:
            t.fail(f"expected {obj.kind} {obj.name} label set {obj.labels} to contain all Gateway "
                   f"infrastructure labels {labels}")
        missing_annotations = {k: v for k, v in annotations.items() if obj.annotations.get(k) != v}
        if missing_annotations:
            t.fail(f"expected {obj.kind} {obj.name} annotation set {obj.annotations} to contain all Gateway "
                   f"infrastructure annotations {annotations}")


TEST = ConformanceTest(
    short_name="GatewayInfrastructure",
    description="Propagation of metadata from Gateway infrastructure to generated components",
    manifests=("gateway-infrastructure.yaml",),
    features=("Gateway", "GatewayInfrastructurePropagation"),
    body=body,
    provisional=True,
    source="conformance/tests/gateway-infrastructure.go @ 4564255ac2c3",
)
