"""Client certificate validation on a Gateway's HTTPS listeners (`spec.tls.frontend`, the feature
GatewayFrontendClientCertificateValidation).

The validation of an HTTPS listener is its port's `perPort` entry, else the `default`. Its
caCertificateRefs must each be a core ConfigMap (else InvalidCACertificateKind), in the Gateway's
namespace or allowed by a ReferenceGrant there (else RefNotPermitted), existing and holding a PEM
CA bundle under `ca.crt` (else InvalidCACertificateRef). A listener with an invalid reference has
ResolvedRefs=False with that reason; one with no valid reference at all is not accepted
(NoValidCACertificate) and not served. The valid bundles, concatenated, are what its Envoy chain
trusts. Other protocols are not touched: a perPort entry for an HTTP listener's port changes nothing.

A Gateway whose validation anywhere is AllowInsecureFallback carries the condition
InsecureFrontendValidationMode=True/ConfigurationChanged (the spec: removed once the mode is back
to AllowValidOnly, so it is never written False).
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509

from ..ir import ClientValidation
from ..resources.gateway_api import GROUP, FrontendValidation, Gateway, ObjectRef
from ..resources.istio.mesh_config import MESH_CONFIG_MAP
from ..resources.istio.mesh_config import ROOT_NAMESPACE as MESH_ROOT_NAMESPACE
from ..resources.meta import ObjectKey
from ..store import Store
from .conditions import Condition
from .references import reference_permitted

CA_KEY = "ca.crt"
INSECURE_FALLBACK = "AllowInsecureFallback"


def _ca_bundle(store: Store, gw: Gateway, ref: ObjectRef) -> tuple[bytes | None, str, str]:
    """The PEM bundle a reference names, or None with the (reason, message) why not."""
    ns = ref.namespace or gw.meta.namespace
    label = f"{ref.kind} {ns}/{ref.name}"
    if ref.group != "" or ref.kind != "ConfigMap":
        return None, "InvalidCACertificateKind", f"{label}: only core ConfigMaps are supported as CA certificates"
    if not reference_permitted(store, GROUP, "Gateway", gw.meta.namespace, "", "ConfigMap", ns, ref.name):
        return None, "RefNotPermitted", f"{label}: no ReferenceGrant in {ns} allows Gateways from {gw.meta.namespace}"
    config_map = store.get("ConfigMap", ns, ref.name)
    if config_map is None:
        return None, "InvalidCACertificateRef", f"{label} does not exist"
    pem = config_map.data.get(CA_KEY)
    if not pem:
        return None, "InvalidCACertificateRef", f"{label} has no key {CA_KEY}"
    try:
        if not x509.load_pem_x509_certificates(pem):
            raise ValueError
    except ValueError:
        return None, "InvalidCACertificateRef", f"{label}: {CA_KEY} is not a PEM certificate bundle"
    return pem, "", ""


def client_validation(store: Store, gw: Gateway, validation: FrontendValidation
                      ) -> tuple[ClientValidation | None, Condition | None]:
    """What an HTTPS listener under `validation` serves (None: no valid CA), and its ResolvedRefs
    condition when a reference is invalid (the first invalid one's reason; every message)."""
    bundles: list[bytes] = []
    problems: list[tuple[str, str]] = []
    for ref in validation.ca_refs:
        pem, reason, message = _ca_bundle(store, gw, ref)
        if pem is None:
            problems.append((reason, message))
        else:
            bundles.append(pem if pem.endswith(b"\n") else pem + b"\n")
    resolved = Condition("ResolvedRefs", False, problems[0][0], "; ".join(m for _, m in problems)) if problems else None
    if not bundles:
        return None, resolved
    return ClientValidation(b"".join(bundles), validation.mode == INSECURE_FALLBACK), resolved


def insecure_fallback_conditions(gw: Gateway) -> list[Condition]:
    """The Gateway's InsecureFrontendValidationMode condition, when any validation allows insecure fallback."""
    frontend = gw.frontend
    if frontend is None:
        return []
    validations = [frontend.default, *(v for _, v in frontend.per_port)]
    if not any(v is not None and v.mode == INSECURE_FALLBACK for v in validations):
        return []
    return [Condition("InsecureFrontendValidationMode", True, "ConfigurationChanged",
                      "Client certificate validation allows clients without a valid certificate "
                      "(AllowInsecureFallback)")]


def referenced_config_maps(store: Store) -> set[tuple[str, str]]:
    """(namespace, name) of every ConfigMap a Gateway's frontend validation, a
    BackendTLSPolicy's or a ClientTrafficPolicy's caCertificateRefs or a SecurityPolicy's JWKS names,
    and Istio's mesh config (its CUSTOM providers, and its problems): the only ConfigMaps
    translation reads."""
    out: set[tuple[str, str]] = {(policy.meta.namespace, ref.name) for policy in store.list("BackendTLSPolicy")
                                 for ref in policy.ca_certificate_refs if ref.group == "" and ref.kind == "ConfigMap"}
    out.add((MESH_ROOT_NAMESPACE, MESH_CONFIG_MAP))
    for ctp in store.list("ClientTrafficPolicy"):  # tls.clientValidation's CA bundles
        for ca in ctp.tls.ca_refs if ctp.tls is not None else ():
            if ca.kind == "ConfigMap":
                out.add((ca.namespace or ctp.meta.namespace, ca.name))
    for sp in store.list("SecurityPolicy"):  # jwt.providers' localJWKS valueRefs
        for provider in sp.jwt.providers if sp.jwt is not None else ():
            if provider.local_ref is not None:
                out.add((provider.local_ref.namespace or sp.meta.namespace, provider.local_ref.name))
    for gw in store.list("Gateway"):
        frontend = gw.frontend
        if frontend is None:
            continue
        for validation in (frontend.default, *(v for _, v in frontend.per_port)):
            for ref in validation.ca_refs if validation is not None else ():
                if ref.group == "" and ref.kind == "ConfigMap":
                    out.add((ref.namespace or gw.meta.namespace, ref.name))
    return out


def only_unread_config_maps(store: Store, keys: Iterable[ObjectKey]) -> bool:
    """Whether every changed object is a ConfigMap no Gateway names, so translating again would
    change nothing (meshgate's own ConfigMaps, such as the proxy answers each replica renews
    every few seconds, must not cost a translation each)."""
    keys = list(keys)
    if not keys or any(k.kind != "ConfigMap" for k in keys):
        return False
    referenced = referenced_config_maps(store)
    return not any((k.namespace, k.name) in referenced for k in keys)
