"""Attaching routes (of any kind) to Gateway and ListenerSet listeners through their parentRefs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..resources.gateway_api import GROUP, Gateway, ParentRef
from ..store import Store
from .backends import RouteObject
from .conditions import Condition
from .hostnames import effective_hostnames
from .listener_sets import ListenerSetState
from .listeners import ListenerState


@dataclass(slots=True)
class GatewayState:
    """A Gateway we own after listener validation."""

    gateway: Gateway
    listeners: list[ListenerState]
    conditions: list[Condition] = field(default_factory=list)
    address: str = "0.0.0.0"
    ports_taken: bool = False  # some listener's address:port belongs to an older Gateway on this host
    listener_sets: list[ListenerSetState] = field(default_factory=list)  # its ListenerSets, in precedence order

    @property
    def own_listeners(self) -> list[ListenerState]:
        """The Gateway's own listeners (`listeners` continues with its ListenerSets')."""
        return [ls for ls in self.listeners if ls.owner is None]


@dataclass(slots=True)
class ParentOutcome:
    """How one parentRef of a route fared: the listeners it attached to, each with the hostnames
    the route serves through it, and its Accepted condition."""

    ref: ParentRef
    accepted: Condition
    listeners: list[tuple[ListenerState, list[str]]] = field(default_factory=list)


def _parent_listeners(store: Store, ref: ParentRef, ns: str, gateways: dict[tuple[str, str], GatewayState],
                      listener_sets: dict[tuple[str, str], ListenerSetState]) -> list[ListenerState] | Condition | None:
    """The listeners a parentRef names (a Gateway's own, or a ListenerSet's), the condition saying
    why it names none, or None when the parent is not ours."""
    parent_ns = ref.namespace or ns
    if ref.kind == "Gateway":
        state = gateways.get((parent_ns, ref.name))
        if state is not None:
            return state.own_listeners
    else:
        lset = listener_sets.get((parent_ns, ref.name))
        if lset is not None:
            return lset.listeners
    if store.get(ref.kind, parent_ns, ref.name) is not None:
        return None  # not ours
    return Condition("Accepted", False, "NoMatchingParent", f"{ref.kind} {parent_ns}/{ref.name} not found")


def attach(store: Store, route: RouteObject, gateways: dict[tuple[str, str], GatewayState],
           listener_sets: dict[tuple[str, str], ListenerSetState] | None = None) -> list[ParentOutcome]:
    """Attach a route to the listeners its parentRefs select; one outcome per Gateway or
    ListenerSet parentRef we own.

    A parentRef to a parent of another controller gets no outcome (its controller writes that
    status); one to a parent that does not exist gets NoMatchingParent.
    """
    outcomes: list[ParentOutcome] = []
    ns = route.meta.namespace
    for ref in route.parent_refs:
        if ref.group != GROUP or ref.kind not in ("Gateway", "ListenerSet"):
            continue  # mesh (Service) parents are for waypoints
        found = _parent_listeners(store, ref, ns, gateways, listener_sets or {})
        if found is None:
            continue
        if isinstance(found, Condition):
            outcomes.append(ParentOutcome(ref, found))
            continue
        parent = f"{ref.kind} {ref.namespace or ns}/{ref.name}"
        candidates = found
        if ref.section_name is not None:
            candidates = [ls for ls in candidates if ls.name == ref.section_name]
            if not candidates:
                outcomes.append(ParentOutcome(ref, Condition("Accepted", False, "NoMatchingParent",
                                                             f"{parent} has no listener {ref.section_name!r}")))
                continue
        if ref.port is not None:
            candidates = [ls for ls in candidates if ls.listener.port == ref.port]
            if not candidates:
                outcomes.append(ParentOutcome(ref, Condition("Accepted", False, "NoMatchingParent",
                                                             f"{parent} has no listener on port {ref.port}")))
                continue
        allowed = [ls for ls in candidates
                   if ls.accepted and ls.allows_kind(GROUP, route.kind) and ls.allows_namespace(store, ns)]
        if not allowed:
            outcomes.append(ParentOutcome(ref, Condition("Accepted", False, "NotAllowedByListeners",
                                                         "No listener selected by this parentRef allows this route")))
            continue
        matched: list[tuple[ListenerState, list[str]]] = []
        for ls in allowed:
            hosts = effective_hostnames(ls.listener.hostname, route.hostnames)
            if hosts:
                matched.append((ls, hosts))
        if not matched:
            outcomes.append(ParentOutcome(ref, Condition("Accepted", False, "NoMatchingListenerHostname",
                                                         "No hostname of the route intersects a listener's hostname")))
            continue
        # A route counts as attached only to listeners whose hostnames it shares (as upstream checks).
        outcomes.append(ParentOutcome(ref, Condition("Accepted", True, "Accepted", "Route accepted"), matched))
    return outcomes
