"""What the upstream ListenerSet tests share (conformance/tests/listenerset-*.go): the conditions
an accepted listener has, and the checks of an attached or refused ListenerSet."""

from __future__ import annotations

from .expect import Key
from .suite import Checks, Condition

# generateAcceptedListenerConditions: any reason.
ACCEPTED_LISTENER = (Condition("ResolvedRefs", "True"), Condition("Accepted", "True"), Condition("Programmed", "True"))
FEATURES = ("Gateway", "ListenerSet")


def conflicted(reason: str) -> tuple[Condition, ...]:
    """A listener refused for a conflict with one of higher precedence."""
    return (Condition("Accepted", "False", reason), Condition("Programmed", "False", reason),
            Condition("Conflicted", "True", reason))


def set_attached(t: Checks, key: Key, *listeners: str) -> None:
    """The set is Accepted/Accepted and Programmed/Programmed, the named listeners accepted."""
    t.object_condition("ListenerSet", key, Condition("Accepted", "True", "Accepted"))
    t.object_condition("ListenerSet", key, Condition("Programmed", "True", "Programmed"))
    if listeners:
        t.listener_conditions("ListenerSet", key, ACCEPTED_LISTENER, *listeners)


def set_refused(t: Checks, key: Key, reason: str) -> None:
    """Accepted and Programmed False for `reason` (NotAllowed, ListenersNotValid)."""
    t.object_condition("ListenerSet", key, Condition("Accepted", "False", reason))
    t.object_condition("ListenerSet", key, Condition("Programmed", "False", reason))


def gateway_accepted_with_sets(t: Checks, gateway: Key, count: int) -> None:
    """GatewayMustHaveCondition(Accepted=True) and GatewayMustHaveAttachedListeners(count)."""
    t.gateway_condition(gateway, Condition("Accepted", "True"))
    t.attached_listener_sets(gateway, count)
