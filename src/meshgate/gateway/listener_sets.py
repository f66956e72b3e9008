"""ListenerSets (GEP-1713): listeners other objects add to a Gateway that allows them.

A Gateway's effective listeners are its own, then those of each ListenerSet it allows (its
`allowedListeners` namespaces), oldest set first (then namespace/name). A set's listener that
clashes with one before it (the same port with another protocol, or the same port, protocol and
hostname) is not accepted (`Conflicted`): the earlier listener wins, as the spec's precedence
says; the set stays Accepted while any of its listeners is. Accepted listeners of a set are served
by the Gateway's proxy like its own, but routes attach to them only through a parentRef to the
ListenerSet (a Gateway parentRef selects the Gateway's own listeners only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..resources.gateway_api import Gateway
from ..resources.gateway_api.listener_set import ListenerSet
from ..store import Store
from .conditions import Condition
from .listeners import ListenerState, validate_listeners


@dataclass(slots=True)
class ListenerSetState:
    """A ListenerSet attached to (or refused by) a Gateway of ours: its listeners and conditions."""

    listener_set: ListenerSet
    gateway: tuple[str, str]
    allowed: bool
    listeners: list[ListenerState] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether the set is attached: allowed, its Gateway accepted, and a listener of it valid."""
        return any(c.type == "Accepted" and c.status for c in self.conditions)


def allows(store: Store, gw: Gateway, listener_set: ListenerSet) -> bool:
    """Whether the Gateway's `allowedListeners` admits ListenerSets from the set's namespace."""
    allowed = gw.allowed_listeners
    if allowed is None:
        return False
    ns = listener_set.meta.namespace
    if allowed.namespaces_from == "All":
        return True
    if allowed.namespaces_from == "Same":
        return ns == gw.meta.namespace
    if allowed.namespaces_from == "Selector":
        return allowed.selector is not None and allowed.selector.matches(store.namespace_labels(ns))
    return False


def _transport(ls: ListenerState) -> tuple[int, bool]:
    return ls.listener.port, ls.listener.protocol == "UDP"


def _conflict(ls: ListenerState, earlier: list[ListenerState]) -> tuple[str, str] | None:
    """(reason, message) when an accepted earlier listener holds what `ls` asks for."""
    for other in earlier:
        if not other.accepted or _transport(other) != _transport(ls):
            continue
        where = f"{other.owner.kind} {other.owner.meta.namespace}/{other.owner.meta.name}" if other.owner else "the Gateway"
        if other.listener.protocol != ls.listener.protocol:
            return ("ProtocolConflict", (f"Port {ls.listener.port} is used with protocol {other.listener.protocol} "
                                        f"by listener {other.name} of {where}"))
        if other.listener.hostname == ls.listener.hostname:
            host = ls.listener.hostname or "no hostname"
            return ("HostnameConflict", (f"Port {ls.listener.port}, protocol {ls.listener.protocol} and {host} are "
                                        f"taken by listener {other.name} of {where}"))
    return None


def _reject(ls: ListenerState, reason: str, message: str) -> None:
    ls.accepted = ls.programmed = False
    resolved = [c for c in ls.conditions if c.type == "ResolvedRefs"]
    ls.conditions = [Condition("Accepted", False, reason, message), *resolved,
                     Condition("Conflicted", True, reason, message), Condition("Programmed", False, reason, message)]


def merge_listener_sets(store: Store, gw: Gateway, listeners: list[ListenerState]) -> list[ListenerSetState]:
    """The ListenerSets whose parent is `gw`, in precedence order; the listeners of the allowed
    ones are validated and appended to `listeners` (the Gateway's, extended in place)."""
    key = (gw.meta.namespace, gw.meta.name)
    sets = sorted((s for s in store.list("ListenerSet") if s.gateway_key == key),
                  key=lambda s: (s.meta.creation_timestamp, s.meta.namespace, s.meta.name))
    out: list[ListenerSetState] = []
    for lset in sets:
        state = ListenerSetState(lset, key, allows(store, gw, lset))
        out.append(state)
        if not state.allowed:
            continue
        own = validate_listeners(store, gw, owner=lset)
        for ls in own:
            if ls.accepted:
                found = _conflict(ls, listeners)
                if found:
                    _reject(ls, *found)
            listeners.append(ls)
        state.listeners = own
    return out


def decide_conditions(state: ListenerSetState, gateway_conditions: list[Condition]) -> None:
    """The set's Accepted and Programmed, once its Gateway's are known."""
    if not state.allowed:
        message = "The parent Gateway's allowedListeners does not admit ListenerSets from this namespace"
        state.conditions = [Condition("Accepted", False, "NotAllowed", message),
                            Condition("Programmed", False, "NotAllowed", message)]
        return
    parent_accepted = next((c for c in gateway_conditions if c.type == "Accepted"), None)
    if parent_accepted is not None and not parent_accepted.status:
        message = f"The parent Gateway is not accepted: {parent_accepted.message}"
        state.conditions = [Condition("Accepted", False, "ParentNotAccepted", message),
                            Condition("Programmed", False, "ParentNotAccepted", message)]
        return
    # A listener counts when it can be served: accepted, and its references resolved (a set whose
    # only listener's certificate is not permitted is ListenersNotValid, as upstream checks).
    if not any(ls.accepted and ls.programmed for ls in state.listeners):
        message = "No listener of the set is valid"
        state.conditions = [Condition("Accepted", False, "ListenersNotValid", message),
                            Condition("Programmed", False, "ListenersNotValid", message)]
        return
    state.conditions = [Condition("Accepted", True, "Accepted", "ListenerSet accepted"),
                        Condition("Programmed", True, "Programmed", "ListenerSet programmed")]
