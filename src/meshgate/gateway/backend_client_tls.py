"""The client certificate a Gateway presents to its backends (`spec.tls.backend.clientCertificateRef`,
the feature GatewayBackendClientCertificate).

The reference must name a core Secret (else InvalidClientCertificateRef), in the Gateway's
namespace or allowed by a ReferenceGrant there (else RefNotPermitted), that exists and holds a
usable certificate and key (`kubernetes.io/tls` with tls.crt and tls.key, else
InvalidClientCertificateRef). A Gateway with `spec.tls.backend` carries a ResolvedRefs condition
saying so (True/ResolvedRefs, or the summary ListenersNotResolved when the reference resolves but
one of its listeners' references does not); the condition does not touch Accepted or Programmed.

A resolved certificate goes to the Gateway's proxy over SDS and is presented on every connection
the Gateway makes over a BackendTLSPolicy's TLS (xds/snapshot.py: the cluster plans of that
Gateway carry it); nothing else changes for an invalid one: the connections are still made, with
no client certificate, and the backend decides.
"""

from __future__ import annotations

from ..ir import TLSSecret
from ..naming import client_secret_name
from ..resources.gateway_api import GROUP, Gateway
from ..store import Store
from .certificates import certificate_problem
from .conditions import Condition
from .listeners import ListenerState
from .references import reference_permitted

INVALID = "InvalidClientCertificateRef"


def backend_client_certificate(store: Store, gw: Gateway) -> tuple[TLSSecret | None, str, str]:
    """The certificate the Gateway presents upstream as an SDS secret, or None with the
    (reason, message) why not ("" when the Gateway names none)."""
    ref = gw.backend.client_certificate_ref if gw.backend is not None else None
    if ref is None:
        return None, "", ""
    ns = ref.namespace or gw.meta.namespace
    label = f"{ref.kind} {ns}/{ref.name}" if not ref.group else f"{ref.group}/{ref.kind} {ns}/{ref.name}"
    if ref.group != "" or ref.kind != "Secret":
        return None, INVALID, f"clientCertificateRef {label}: only core Secrets are supported"
    if not reference_permitted(store, GROUP, "Gateway", gw.meta.namespace, "", "Secret", ns, ref.name):
        return None, "RefNotPermitted", (f"clientCertificateRef {label}: no ReferenceGrant in {ns} allows "
                                         f"Gateways from {gw.meta.namespace}")
    secret = store.get("Secret", ns, ref.name)
    if secret is None:
        return None, INVALID, f"clientCertificateRef {label} does not exist"
    problem = certificate_problem(secret)
    if problem:
        return None, INVALID, f"clientCertificateRef {label}: {problem}"
    return TLSSecret(client_secret_name(ns, ref.name), secret.data["tls.crt"], secret.data["tls.key"]), "", ""


def resolved_refs_conditions(gw: Gateway, reason: str, message: str,
                             listeners: list[ListenerState]) -> list[Condition]:
    """The Gateway's ResolvedRefs condition, for a Gateway with `spec.tls.backend` (none otherwise):
    `reason`/`message` from backend_client_certificate when its reference does not resolve."""
    if gw.backend is None:
        return []
    if reason:
        return [Condition("ResolvedRefs", False, reason, message)]
    unresolved = [ls.name for ls in listeners
                  if any(c.type == "ResolvedRefs" and not c.status for c in ls.conditions)]
    if unresolved:
        return [Condition("ResolvedRefs", False, "ListenersNotResolved",
                          f"Listeners with unresolved references: {', '.join(unresolved)}")]
    return [Condition("ResolvedRefs", True, "ResolvedRefs", "All references resolved")]
