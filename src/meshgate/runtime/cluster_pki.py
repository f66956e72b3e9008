"""xDS mutual TLS in a cluster: a CA kept in a Secret of meshgate's namespace (created by the
first replica that finds none; the others read it), each replica's server certificate issued
from it at start, and a client certificate per provisioned proxy, in a Secret owned by its
Gateway, naming the Gateway (its SPIFFE ID: the xDS server takes the proxy's Gateway from it).
A proxy's certificate is reissued when it was not signed by the current CA, names another
Gateway, or has less than a third of its lifetime left; Envoy reads it at start, so the
provisioner rolls the proxy's Pods when it changes (cluster/provisioner.py)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
from dataclasses import dataclass

from cryptography import x509

from ..cluster.provisioner import SecretFor
from ..cluster.render import GatewayOwner
from ..providers.kubernetes.client import ApiError, KubeClient
from ..xds.tls import ServerTLS, gateway_spiffe_id
from .pki import Authority, issue_gateway, issue_server, load_authority, new_authority

log = logging.getLogger("meshgate.kubernetes.pki")

CA_SECRET = "meshgate-xds-ca"
LEAF_DAYS = 90


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


async def cluster_authority(client: KubeClient, namespace: str, attempts: int = 50) -> Authority:
    """The CA in Secret `meshgate-xds-ca` of `namespace`: read, or created when missing (two
    replicas racing: one create wins, the other reads it)."""
    path = f"/api/v1/namespaces/{namespace}/secrets"
    for _ in range(attempts):
        try:
            secret = await client.get(f"{path}/{CA_SECRET}")
            data = secret.get("data") or {}
            return load_authority(_unb64(data.get("tls.crt")), _unb64(data.get("tls.key")))
        except ApiError as exc:
            if exc.code != 404:
                raise
        ca = new_authority()
        try:
            await client.send("POST", path, {
                "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": CA_SECRET, "namespace": namespace,
                             "labels": {"app.kubernetes.io/managed-by": "meshgate"}},
                "data": {"tls.crt": _b64(ca.certificate_pem), "tls.key": _b64(ca.key_pem)}})
            log.info("created the xDS CA in Secret %s/%s", namespace, CA_SECRET)
            return ca
        except ApiError as exc:
            if exc.code != 409:
                raise
        await asyncio.sleep(0.1)
    raise ApiError(0, "Unavailable", f"could not read or create Secret {namespace}/{CA_SECRET}")


@dataclass(frozen=True, slots=True)
class ClusterPKI:
    """The cluster's xDS CA and what this replica issues from it."""

    authority: Authority

    def server_tls(self, names: list[str]) -> ServerTLS:
        """This replica's server certificate for `names`, accepting the CA's client certificates."""
        server = issue_server(self.authority, names, days=LEAF_DAYS)
        return ServerTLS(((server.private_key, server.certificate),), self.authority.certificate_pem)

    def _valid(self, data: dict, gateway: str, now: datetime.datetime) -> bool:
        try:
            cert = x509.load_pem_x509_certificate(_unb64(data.get("tls.crt")))
            if _unb64(data.get("ca.crt")) != self.authority.certificate_pem:
                return False
            cert.verify_directly_issued_by(self.authority.certificate)
            uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                x509.UniformResourceIdentifier)
        except (ValueError, TypeError, x509.ExtensionNotFound):
            return False
        left = cert.not_valid_after_utc - now
        return uris == [gateway_spiffe_id(gateway)] and left > (cert.not_valid_after_utc - cert.not_valid_before_utc) / 3

    def gateway_secret(self, owner: GatewayOwner, name: str, existing: dict | None,
                       now: datetime.datetime | None = None) -> dict:
        """The Secret of a proxy's client certificate: `existing`'s while it is valid, else new."""
        gateway = f"{owner.namespace}/{owner.name}"
        data = (existing or {}).get("data") or {}
        if not self._valid(data, gateway, now or datetime.datetime.now(datetime.UTC)):
            issued = issue_gateway(self.authority, gateway, days=LEAF_DAYS)
            data = {"tls.crt": _b64(issued.certificate), "tls.key": _b64(issued.private_key),
                    "ca.crt": _b64(self.authority.certificate_pem)}
            log.info("issued the xDS client certificate of Gateway %s (Secret %s/%s)", gateway, owner.namespace, name)
        return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": name},
                "data": dict(data)}

    @property
    def secret_for(self) -> SecretFor:
        """`gateway_secret`, as the provisioner takes it."""
        return self.gateway_secret
