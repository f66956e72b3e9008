"""What the provisioner wants in the cluster for the served Gateways (Provisioner.desired): the
rendered objects plus, with xDS mTLS, each proxy's certificate Secret, and Pods that roll when
that certificate is reissued."""

from __future__ import annotations

import dataclasses

from meshgate.cluster.apply import APPLIED_HASH
from meshgate.cluster.provisioner import CERTIFICATE_ANNOTATION, Provisioner
from meshgate.cluster.render import GatewayOwner
from meshgate.providers.kubernetes.client import KubeClient

from .test_render import DEFAULTS, _owned  # the same golden input


def _provisioner(certificate: list[str]) -> Provisioner:
    def secret(owner: GatewayOwner, name: str, existing: dict | None) -> dict:
        return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": name},
                "data": {"tls.crt": certificate[0], "tls.key": "k", "ca.crt": "c"}}

    return Provisioner(KubeClient.__new__(KubeClient), dataclasses.replace(DEFAULTS, xds_tls=True), _owned, secret)


def test_each_proxy_gets_its_certificate_secret_and_pods_that_roll_with_it() -> None:
    certificate = ["first"]
    provisioner = _provisioner(certificate)
    before = provisioner.desired({})
    secrets = {k: v for k, v in before.items() if k[0] == "Secret"}
    deployments = {k: v for k, v in before.items() if k[0] == "Deployment"}
    assert len(secrets) == len(deployments) > 0
    for (_, ns, name), dep in deployments.items():
        assert ("Secret", ns, f"{name}-xds") in secrets
        assert dep["spec"]["template"]["metadata"]["annotations"][CERTIFICATE_ANNOTATION]
    certificate[0] = "reissued"
    after = provisioner.desired({})
    for key, dep in deployments.items():
        rolled = after[key]["spec"]["template"]["metadata"]["annotations"][CERTIFICATE_ANNOTATION]
        assert rolled != dep["spec"]["template"]["metadata"]["annotations"][CERTIFICATE_ANNOTATION]
        assert after[key]["metadata"]["annotations"][APPLIED_HASH] != dep["metadata"]["annotations"][APPLIED_HASH]
    unchanged = [k for k in before if k[0] in ("ConfigMap", "Service", "ServiceAccount")]
    assert unchanged and all(after[k] == before[k] for k in unchanged)
