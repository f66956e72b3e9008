"""GatewayInfrastructure (conformance/tests/gateway-infrastructure.go): the labels and annotations of a
Gateway's spec.infrastructure are on what is created for it, found by the gateway-name label.

Without Kubernetes, meshgate creates no ServiceAccount, Pod or Service: what it creates for a
Gateway is its managed Envoy, which stands in for the Pod (Checks.generated). The ServiceAccount
and Service assertions wait for the Kubernetes provisioner and are reported as not checked."""

from ..expect import INFRA, Key
from ..suite import Checks, Condition, ConformanceTest

GATEWAY = Key(INFRA, "gateway-with-infrastructure-metadata")


def body(t: Checks) -> None:
    t.gateway_latest_conditions(GATEWAY)
    t.gateway_condition(GATEWAY, Condition("Accepted", "True"))

    infrastructure = t.gateway_spec(GATEWAY)["infrastructure"]
    annotations = {str(k): str(v) for k, v in infrastructure.get("annotations", {}).items()}
    labels = {str(k): str(v) for k, v in infrastructure.get("labels", {}).items()}
    t.not_checked("ServiceAccounts and Services with the gateway-name label: without Kubernetes meshgate creates "
                  "none (they come with the Kubernetes provisioner); the Gateway's managed Envoy stands in for its "
                  "Pod, its node metadata's labels and annotations checked")
    found = t.generated(GATEWAY)
    if not found:
        t.fail("expected to find a ServiceAccount, Pod, or Service with the gateway-name label")
    pod = found[0]
    missing_labels = {k: v for k, v in labels.items() if pod.labels.get(k) != v}
    if missing_labels:
        t.fail(f"expected Pod label set {pod.labels} to contain all Gateway infrastructure labels {labels}")
    missing_annotations = {k: v for k, v in annotations.items() if pod.annotations.get(k) != v}
    if missing_annotations:
        t.fail(f"expected Pod annotation set {pod.annotations} to contain all Gateway infrastructure "
               f"annotations {annotations}")


TEST = ConformanceTest(
    short_name="GatewayInfrastructure",
    description="Propagation of metadata from Gateway infrastructure to generated components",
    manifests=("gateway-infrastructure.yaml",),
    features=("Gateway", "GatewayInfrastructurePropagation"),
    body=body,
    provisional=True,
    source="conformance/tests/gateway-infrastructure.go @ 4564255ac2c3",
)
