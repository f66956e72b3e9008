"""BackendTLSPolicy (GEP-1897): which policy applies to a Service port, and what its CA
references resolve to. Both the cluster policy (discovery/cluster_policy.py) and the policy's
status (gateway/backend_tls_status.py) decide from here, so they never disagree.

- A policy applies to the Services its targetRefs name (group "" and kind Service, in its own
  namespace): to one port when the targetRef has a `sectionName` (the port's name), else to
  every port. For one port, a policy naming the port wins over one naming the whole Service
  (both are accepted: they do not conflict); among policies naming the same target and
  sectionName, the oldest wins (creationTimestamp, then namespace/name, GEP-713) and the others
  are Conflicted.
- CA references: a ConfigMap or a Secret (group "") of the policy's namespace whose `ca.crt` holds
  PEM certificates. A reference of another kind is InvalidKind; a missing object, a missing or
  empty `ca.crt`, or one that is not PEM certificates is InvalidCACertificateRef. Connections
  through a policy with any invalid reference must fail (the spec), so such a policy still
  applies, with no CA anyone can satisfy (xds/clusters.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509

from ..resources.core import ConfigMap, Secret
from ..resources.gateway_api.backend_tls_policy import SYSTEM_CA, BackendTLSPolicy, PolicyTargetRef

CA_KEY = "ca.crt"
INVALID_KIND = "InvalidKind"
INVALID_REF = "InvalidCACertificateRef"

# (namespace, name) → the object, or None; each lookup is recorded by its caller.
SecretLookup = Callable[[str, str], Secret | None]
ConfigMapLookup = Callable[[str, str], ConfigMap | None]


class CARefLike(Protocol):
    """A CA reference: a policy's caCertificateRefs item, or the IR's copy (ir_clusters.CARef)."""

    @property
    def group(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class CAProblem:
    """Why one CA reference does not resolve: reason InvalidKind or InvalidCACertificateRef."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class CABundle:
    """What a policy's CA references resolve to: the PEM bytes of those that resolve, and a
    problem for each that does not."""

    pem: bytes
    problems: tuple[CAProblem, ...]

    @property
    def usable(self) -> bool:
        """True when every reference resolved (connections may then be made)."""
        return not self.problems and bool(self.pem)


def precedence(policy: BackendTLSPolicy) -> tuple[str, str, str]:
    """The order of precedence between policies: oldest first, then namespace/name."""
    return (policy.meta.creation_timestamp, policy.meta.namespace, policy.meta.name)


def service_targets(policy: BackendTLSPolicy) -> list[PolicyTargetRef]:
    """The policy's targetRefs that name a Service (the only targets meshgate applies it to)."""
    return [t for t in policy.target_refs if t.is_service]


def targets_port(ref: PolicyTargetRef, service: str, port_name: str) -> bool:
    """Whether a Service targetRef covers the port `port_name` of `service`."""
    return ref.is_service and ref.name == service and (ref.section_name is None or ref.section_name == port_name)


def policy_for_port(policies: Iterable[BackendTLSPolicy], namespace: str, service: str,
                    port_name: str) -> BackendTLSPolicy | None:
    """The policy that applies to the port `port_name` of Service `namespace/service`: the oldest
    naming the port by sectionName, else the oldest naming the whole Service; None when none does."""
    by_section: list[BackendTLSPolicy] = []
    whole: list[BackendTLSPolicy] = []
    for p in policies:
        if p.meta.namespace != namespace:
            continue
        refs = [t for t in p.target_refs if targets_port(t, service, port_name)]
        if any(t.section_name is not None for t in refs):
            by_section.append(p)
        elif refs:
            whole.append(p)
    chosen = by_section or whole
    return min(chosen, key=precedence) if chosen else None


def conflicted(policies: Iterable[BackendTLSPolicy]) -> dict[tuple[str, str], BackendTLSPolicy]:
    """(namespace, name) of each policy that loses a target to an older one → the older one."""
    winners: dict[tuple[str, str, str | None], BackendTLSPolicy] = {}
    out: dict[tuple[str, str], BackendTLSPolicy] = {}
    for p in sorted(policies, key=precedence):
        for t in service_targets(p):
            key = (p.meta.namespace, t.name, t.section_name)
            winner = winners.setdefault(key, p)
            if winner is not p:
                out.setdefault((p.meta.namespace, p.meta.name), winner)
    return out


def _pem_problem(text: bytes) -> str | None:
    try:
        x509.load_pem_x509_certificates(text)
    except ValueError:
        return "not PEM-encoded certificates"
    return None


def _resolve_one(namespace: str, ref: CARefLike, secrets: SecretLookup,
                 config_maps: ConfigMapLookup) -> tuple[bytes, CAProblem | None]:
    what = f"{ref.kind} {namespace}/{ref.name}"
    if ref.group != "" or ref.kind not in ("ConfigMap", "Secret"):
        kind = f"{ref.group}/{ref.kind}" if ref.group else ref.kind
        return b"", CAProblem(INVALID_KIND, f"caCertificateRefs kind {kind} is not supported: use a ConfigMap "
                                            f"or a Secret (group \"\")")
    if ref.kind == "ConfigMap":
        cm = config_maps(namespace, ref.name)
        data = None if cm is None else cm.data.get(CA_KEY, b"")
        found = cm is not None
    else:
        secret = secrets(namespace, ref.name)
        data = None if secret is None else secret.data.get(CA_KEY, b"")
        found = secret is not None
    if not found:
        return b"", CAProblem(INVALID_REF, f"{what} not found")
    if not data or not data.strip():
        return b"", CAProblem(INVALID_REF, f"{what} has no {CA_KEY}")
    problem = _pem_problem(data)
    if problem:
        return b"", CAProblem(INVALID_REF, f"{what}: {CA_KEY} is {problem}")
    return data if data.endswith(b"\n") else data + b"\n", None


def resolve_ca(namespace: str, refs: Iterable[CARefLike], secrets: SecretLookup,
               config_maps: ConfigMapLookup) -> CABundle:
    """CA references (a policy's, or the IR's copy of them) resolved in `namespace`, the policy's
    (the system CAs need no resolving: a policy with wellKnownCACertificates System has no references)."""
    pem = b""
    problems: list[CAProblem] = []
    for ref in refs:
        data, problem = _resolve_one(namespace, ref, secrets, config_maps)
        pem += data
        if problem is not None:
            problems.append(problem)
    return CABundle(pem, tuple(problems))


def well_known_problem(policy: BackendTLSPolicy) -> str | None:
    """Why the policy's wellKnownCACertificates cannot be honoured (only System is known)."""
    wk = policy.well_known_ca
    if wk is None or wk == SYSTEM_CA:
        return None
    return f"wellKnownCACertificates {wk!r} is not supported: only System is"
