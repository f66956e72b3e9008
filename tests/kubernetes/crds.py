"""CustomResourceDefinitions for the kinds meshgate reads, as a cluster would have them installed
(the Gateway API's standard-install.yaml, Istio's CRDs, Envoy Gateway's policy CRDs): names, scope, served versions and the
status subresource, which is all the API emulator and meshgate look at (the schemas are upstream's
business; meshgate validates objects itself)."""

from __future__ import annotations

from meshgate.deploy.crds import gateway_parameters_crd
from meshgate.deploy.settings import ManifestOptions

GATEWAY_API = "gateway.networking.k8s.io"
ISTIO = "networking.istio.io"
ISTIO_SECURITY = "security.istio.io"
MESHGATE = "gateway.meshgate.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"

# (group, kind, plural, namespaced, versions with the storage one first)
KINDS: list[tuple[str, str, str, bool, tuple[str, ...]]] = [
    (GATEWAY_API, "GatewayClass", "gatewayclasses", False, ("v1", "v1beta1")),
    (GATEWAY_API, "Gateway", "gateways", True, ("v1", "v1beta1")),
    (GATEWAY_API, "HTTPRoute", "httproutes", True, ("v1", "v1beta1")),
    (GATEWAY_API, "GRPCRoute", "grpcroutes", True, ("v1",)),
    (GATEWAY_API, "ListenerSet", "listenersets", True, ("v1",)),
    (GATEWAY_API, "TLSRoute", "tlsroutes", True, ("v1", "v1alpha3", "v1alpha2")),
    (GATEWAY_API, "TCPRoute", "tcproutes", True, ("v1alpha2", "v1")),
    (GATEWAY_API, "UDPRoute", "udproutes", True, ("v1alpha2", "v1")),
    (GATEWAY_API, "ReferenceGrant", "referencegrants", True, ("v1", "v1beta1")),
    (GATEWAY_API, "BackendTLSPolicy", "backendtlspolicies", True, ("v1", "v1alpha3")),
    (ISTIO, "ServiceEntry", "serviceentries", True, ("v1", "v1beta1", "v1alpha3")),
    (ISTIO, "WorkloadEntry", "workloadentries", True, ("v1", "v1beta1", "v1alpha3")),
    (ISTIO, "DestinationRule", "destinationrules", True, ("v1", "v1beta1", "v1alpha3")),
    (ISTIO_SECURITY, "AuthorizationPolicy", "authorizationpolicies", True, ("v1", "v1beta1")),
    (ISTIO_SECURITY, "RequestAuthentication", "requestauthentications", True, ("v1", "v1beta1")),
    (ENVOY_GATEWAY, "BackendTrafficPolicy", "backendtrafficpolicies", True, ("v1alpha1",)),
    (ENVOY_GATEWAY, "ClientTrafficPolicy", "clienttrafficpolicies", True, ("v1alpha1",)),
    (ENVOY_GATEWAY, "SecurityPolicy", "securitypolicies", True, ("v1alpha1",)),
]


def crd(group: str, kind: str, plural: str, namespaced: bool, versions: tuple[str, ...]) -> dict:
    """One CRD: every version served, the first stored, each with a status subresource."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group, "scope": "Namespaced" if namespaced else "Cluster",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": {"status": {}},
                          "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
                         for i, v in enumerate(versions)],
        },
    }


def crds(groups: tuple[str, ...] = (GATEWAY_API, ISTIO, ISTIO_SECURITY, MESHGATE, ENVOY_GATEWAY)) -> list[dict]:
    """The CRDs of the given API groups (meshgate's own as `meshgate manifests` renders it)."""
    own = [gateway_parameters_crd(ManifestOptions())] if MESHGATE in groups else []
    return [crd(*k) for k in KINDS if k[0] in groups] + own


def main() -> None:
    """Print the CRDs as a YAML stream (`python -m tests.kubernetes.crds | kubectl apply -f -`)."""
    import yaml

    print(yaml.safe_dump_all(crds(), sort_keys=False), end="")


if __name__ == "__main__":
    main()
