"""Gateway listeners: which are served, their TLS certificates, and their status conditions."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import TLSSecret
from ..resources.gateway_api import GROUP, Gateway, Listener, RouteGroupKind
from ..resources.gateway_api.listener_set import ListenerSet
from ..store import Store
from .certificates import certificate_problem
from .conditions import Condition
from .references import reference_permitted
from .route_kinds import PROTOCOL_KINDS


@dataclass(slots=True)
class ListenerState:
    """A listener after validation; routes attached to it are counted here during translation."""

    gateway: Gateway
    listener: Listener
    accepted: bool
    programmed: bool
    conditions: list[Condition]
    supported_kinds: tuple[RouteGroupKind, ...]
    secrets: tuple[TLSSecret, ...] = ()
    attached_routes: int = 0
    attached: list = field(default_factory=list)  # (route, hostnames) pairs served here
    counted: set = field(default_factory=set)  # (kind, namespace, name) of routes counted in attached_routes
    owner: ListenerSet | None = None  # the ListenerSet that adds it to the Gateway; None: the Gateway's own

    @property
    def name(self) -> str:
        return self.listener.name

    @property
    def key(self) -> str:
        """A name unique among all of the Gateway's listeners (a ListenerSet's may repeat the
        Gateway's names): what Envoy names of its chains and route configurations use."""
        if self.owner is None:
            return self.listener.name
        return f"{self.owner.meta.namespace}.{self.owner.meta.name}.{self.listener.name}"

    @property
    def namespace(self) -> str:
        """The namespace of the object the listener belongs to (allowedRoutes `Same`, certificates)."""
        return self.owner.meta.namespace if self.owner is not None else self.gateway.meta.namespace

    def allows_kind(self, group: str, kind: str) -> bool:
        """Whether routes of this kind may attach."""
        return any(k.group == group and k.kind == kind for k in self.supported_kinds)

    def allows_namespace(self, store: Store, namespace: str) -> bool:
        """Whether routes in `namespace` may attach (allowedRoutes.namespaces)."""
        frm = self.listener.namespaces_from
        if frm == "All":
            return True
        if frm == "Same":
            return namespace == self.namespace
        selector = self.listener.namespace_selector
        return selector is not None and selector.matches(store.namespace_labels(namespace))


def secret_name(namespace: str, name: str) -> str:
    """The SDS name of a Secret's certificate."""
    return f"{namespace}/{name}"


def _resolve_certificates(store: Store, owner: Gateway | ListenerSet,
                          listener: Listener) -> tuple[list[TLSSecret], list[tuple[str, str]]]:
    """The usable certificates of a TLS listener, and (reason, message) for each unusable ref."""
    secrets: list[TLSSecret] = []
    problems: list[tuple[str, str]] = []
    for ref in listener.certificate_refs:
        ns = ref.namespace or owner.meta.namespace
        label = f"{ref.kind} {ns}/{ref.name}"
        if ref.group != "" or ref.kind != "Secret":
            problems.append(("InvalidCertificateRef", f"{label}: only core Secrets are supported as certificates"))
            continue
        if not reference_permitted(store, GROUP, owner.kind, owner.meta.namespace, "", "Secret", ns, ref.name):
            problems.append(("RefNotPermitted", (f"{label}: no ReferenceGrant in {ns} allows {owner.kind}s "
                                                f"from {owner.meta.namespace}")))
            continue
        secret = store.get("Secret", ns, ref.name)
        if secret is None:
            problems.append(("InvalidCertificateRef", f"{label} does not exist"))
            continue
        problem = certificate_problem(secret)
        if problem:
            problems.append(("InvalidCertificateRef", f"{label}: {problem}"))
            continue
        secrets.append(TLSSecret(secret_name(ns, ref.name), secret.data["tls.crt"], secret.data["tls.key"]))
    return secrets, problems


def validate_listeners(store: Store, gw: Gateway, owner: ListenerSet | None = None) -> list[ListenerState]:
    """Every listener of a Gateway (or of a ListenerSet `owner` of it) with its conditions;
    conflicts among them are judged per port (gateway/listener_sets.py judges those between a
    ListenerSet's listeners and the Gateway's)."""
    own = owner.listeners if owner is not None else gw.listeners
    # TCP and UDP listeners may share a port number; any other two protocols on one conflict.
    protocols: dict[tuple[int, bool], set[str]] = {}
    for lst in own:
        protocols.setdefault((lst.port, lst.protocol == "UDP"), set()).add(lst.protocol)

    states: list[ListenerState] = []
    for lst in own:
        conds: list[Condition] = []
        accepted = programmed = True
        resolved = Condition("ResolvedRefs", True, "ResolvedRefs", "All references resolved")
        conflicted = Condition("Conflicted", False, "NoConflicts", "No conflicts")

        allowed = PROTOCOL_KINDS.get(lst.protocol, ())
        if lst.kinds is None:
            kinds: tuple[RouteGroupKind, ...] = allowed
        else:
            kinds = tuple(k for k in lst.kinds if k in allowed)
            bad = [f"{k.group}/{k.kind}" for k in lst.kinds if k not in allowed]
            if bad:
                resolved = Condition("ResolvedRefs", False, "InvalidRouteKinds",
                                     f"Unsupported route kinds for protocol {lst.protocol}: {', '.join(bad)}; "
                                     f"supported: {', '.join(k.kind for k in allowed)}")

        secrets: list[TLSSecret] = []
        if lst.protocol not in PROTOCOL_KINDS:
            accepted = programmed = False
            kinds = ()
            conds.append(Condition("Accepted", False, "UnsupportedProtocol",
                                   f"Protocol {lst.protocol} is not supported; supported: {', '.join(PROTOCOL_KINDS)}"))
        elif owner is None and len(protocols[(lst.port, lst.protocol == "UDP")]) > 1:
            # Within a Gateway no listener wins a conflict; a ListenerSet's listeners are judged
            # one by one against those before them (listener_sets.py).
            # The spec: no picking one of the conflicting listeners as the winner.
            accepted = programmed = False
            kinds = ()
            conflicted = Condition("Conflicted", True, "ProtocolConflict",
                                   f"Port {lst.port} is used with protocols "
                                   f"{', '.join(sorted(protocols[(lst.port, lst.protocol == 'UDP')]))}")
            conds.append(Condition("Accepted", False, "ProtocolConflict", conflicted.message))
        else:
            conds.append(Condition("Accepted", True, "Accepted", "Listener accepted"))

        if accepted and (lst.protocol == "HTTPS" or (lst.protocol == "TLS" and lst.tls_mode == "Terminate")):
            secrets, problems = _resolve_certificates(store, owner or gw, lst)
            if problems:
                reason = "RefNotPermitted" if all(r == "RefNotPermitted" for r, _ in problems) else "InvalidCertificateRef"
                resolved = Condition("ResolvedRefs", False, reason, "; ".join(m for _, m in problems))
            if not secrets:
                programmed = False

        conds.append(resolved)
        conds.append(conflicted)
        if programmed:
            conds.append(Condition("Programmed", True, "Programmed", "Listener programmed"))
        else:
            conds.append(Condition("Programmed", False, "Invalid", "Listener is not valid and is not served"))
        states.append(ListenerState(gw, lst, accepted, programmed, conds, kinds, tuple(secrets), owner=owner))
    return states
