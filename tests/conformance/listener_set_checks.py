"""What the upstream ListenerSet tests share (conformance/tests/listenerset-*.go): the conditions
an accepted listener has, and the checks of an attached or refused ListenerSet."""

from __future__ import annotations

from .expect import INFRA, Key
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


def expect_precedence(t: Checks, kind: str, reason: str) -> None:
    """The ListenerSet<Kind>Conflict tests' body (listenerset-<kind>-conflict.yaml's objects): the
    Gateway's listeners accepted; in each set, the listener that clashes with an earlier one
    refused for `reason`, the others accepted; a set left with none ListenersNotValid."""
    clash = conflicted(reason)
    gw = Key(INFRA, f"gateway-with-listenerset-{kind}-conflict")
    t.gateway_condition(gw, Condition("Accepted"))
    t.listener_conditions("Gateway", gw, ACCEPTED_LISTENER, "gateway-listener")
    t.listener_conditions("Gateway", gw, ACCEPTED_LISTENER, f"{kind}-conflict-with-gateway-listener")
    gateway_accepted_with_sets(t, gw, 2)

    first = Key(INFRA, f"listenerset-with-{kind}-conflict-with-gateway-1")
    set_attached(t, first, "listener-set-1-listener", f"{kind}-conflict-with-listener-set-listener")
    t.listener_conditions("ListenerSet", first, clash, f"{kind}-conflict-with-gateway-listener")

    second = Key(INFRA, f"listenerset-with-{kind}-conflict-with-gateway-2")
    set_refused(t, second, "ListenersNotValid")
    t.listener_conditions("ListenerSet", second, clash, f"{kind}-conflict-with-gateway-listener")

    third = Key(INFRA, f"listenerset-with-{kind}-conflict-with-listener-set-1")
    set_attached(t, third, "listener-set-2-listener")
    t.listener_conditions("ListenerSet", third, clash, f"{kind}-conflict-with-listener-set-listener")

    fourth = Key(INFRA, f"listenerset-with-{kind}-conflict-with-listener-set-2")
    set_refused(t, fourth, "ListenersNotValid")
    t.listener_conditions("ListenerSet", fourth, clash, f"{kind}-conflict-with-listener-set-listener")

