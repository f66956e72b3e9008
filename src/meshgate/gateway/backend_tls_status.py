"""BackendTLSPolicy status (GEP-1897, GEP-713 policy status): `status.ancestors`, one entry per
Gateway of ours whose routes send to a Service port the policy targets, each with the policy's
conditions (the same for every ancestor: nothing about a policy depends on the Gateway).

- Accepted: False Conflicted when an older policy names the same target and sectionName; False
  Invalid for wellKnownCACertificates other than System; False NoValidCACertificate when none of
  its CA references resolves; else True Accepted.
- ResolvedRefs: False InvalidKind for a reference that is not a ConfigMap or Secret, False
  InvalidCACertificateRef for one that does not resolve (missing, no ca.crt, not PEM); else
  True ResolvedRefs.

A policy no Gateway uses gets an empty `ancestors` (so that stale entries of ours go).
Which policy applies to a port and what its references resolve to is discovery/backend_tls.py's
decision, shared with the clusters it shapes.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import ir
from ..discovery.backend_tls import (
    INVALID_KIND,
    conflicted,
    resolve_ca,
    service_targets,
    well_known_problem,
)
from ..naming import CONTROLLER_NAME
from ..resources.core import Service
from ..resources.gateway_api import GROUP
from ..resources.gateway_api.backend_tls_policy import BackendTLSPolicy
from ..store import Store
from .conditions import Condition
from .status import API_VERSION

KIND = "BackendTLSPolicy"


def _conditions(store: Store, policy: BackendTLSPolicy,
                lost_to: BackendTLSPolicy | None) -> list[Condition]:
    bundle = resolve_ca(policy.meta.namespace, policy.ca_certificate_refs,
                        lambda ns, n: store.get("Secret", ns, n), lambda ns, n: store.get("ConfigMap", ns, n))
    if bundle.problems:
        # InvalidKind first: it says the reference can never resolve, whatever objects exist.
        first = next((p for p in bundle.problems if p.reason == INVALID_KIND), bundle.problems[0])
        resolved = Condition("ResolvedRefs", False, first.reason, "; ".join(p.message for p in bundle.problems))
    else:
        resolved = Condition("ResolvedRefs", True, "ResolvedRefs", "All CA certificate references resolved")
    well_known = well_known_problem(policy)
    if lost_to is not None:
        accepted = Condition("Accepted", False, "Conflicted",
                             f"BackendTLSPolicy {lost_to.meta.namespace}/{lost_to.meta.name} targets the same "
                             "Service and sectionName and is older")
    elif well_known is not None:
        accepted = Condition("Accepted", False, "Invalid", well_known)
    elif policy.ca_certificate_refs and not bundle.pem:
        accepted = Condition("Accepted", False, "NoValidCACertificate",
                             "No CA certificate reference resolves: connections to the targeted Services fail")
    else:
        accepted = Condition("Accepted", True, "Accepted", "Policy accepted")
    return [accepted, resolved]


def _port_names(store: Store, namespace: str, service: str) -> dict[int, str]:
    svc: Service | None = store.get("Service", namespace, service)
    return {} if svc is None else {p.port: p.name for p in svc.ports}


def _ancestors(store: Store, policy: BackendTLSPolicy, gateways: Iterable[ir.GatewayConfig]) -> list[dict]:
    targets = service_targets(policy)
    names = {t.name: _port_names(store, policy.meta.namespace, t.name) for t in targets}
    out: list[dict] = []
    for gw in gateways:
        # A Passthrough TLSRoute's cluster does not use the policy (gateway/passthrough_clusters.py).
        uses = any(ref.service_kind == "Service" and not ref.passthrough and ref.namespace == policy.meta.namespace
                   and any(t.name == ref.service and (t.section_name is None
                                                      or names[t.name].get(ref.port) == t.section_name)
                           for t in targets)
                   for ref in gw.clusters)
        if uses:
            out.append({"group": GROUP, "kind": "Gateway", "namespace": gw.namespace, "name": gw.name})
    return out


def backend_tls_statuses(store: Store, gateways: list[ir.GatewayConfig], now: str) -> list[dict]:
    """The status of every BackendTLSPolicy, its ancestors the `gateways` (translated, of ours)
    whose clusters include a port it targets."""
    policies: list[BackendTLSPolicy] = store.list(KIND)
    losers = conflicted(policies)
    out: list[dict] = []
    for policy in policies:
        meta = policy.meta
        conds = [c.to_dict(meta.generation, now)
                 for c in _conditions(store, policy, losers.get((meta.namespace, meta.name)))]
        ancestors = [{"ancestorRef": ref, "controllerName": CONTROLLER_NAME, "conditions": [dict(c) for c in conds]}
                     for ref in _ancestors(store, policy, gateways)]
        out.append({"apiVersion": API_VERSION, "kind": KIND,
                    "metadata": {"namespace": meta.namespace, "name": meta.name},
                    "status": {"ancestors": ancestors}})
    return out
