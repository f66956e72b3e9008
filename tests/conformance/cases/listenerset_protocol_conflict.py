"""ListenerSetProtocolConflict (conformance/tests/listenerset-protocol-conflict.go): listener precedence. The
Gateway's listeners come first, then each ListenerSet's in order: a set's listener that conflicts
(ProtocolConflict) with an earlier one is refused, the set stays accepted while another listener of it
is valid, and a set whose every listener is refused is ListenersNotValid."""

from ..expect import INFRA, Key
from ..listener_set_checks import (
    ACCEPTED_LISTENER,
    FEATURES,
    conflicted,
    gateway_accepted_with_sets,
    set_attached,
    set_refused,
)
from ..suite import Checks, Condition, ConformanceTest


def body(t: Checks) -> None:
    clash = conflicted("ProtocolConflict")
    gw = Key(INFRA, "gateway-with-listenerset-protocol-conflict")
    t.gateway_condition(gw, Condition("Accepted"))
    t.listener_conditions("Gateway", gw, ACCEPTED_LISTENER, "gateway-listener")
    t.listener_conditions("Gateway", gw, ACCEPTED_LISTENER, "protocol-conflict-with-gateway-listener")
    gateway_accepted_with_sets(t, gw, 2)

    first = Key(INFRA, "listenerset-with-protocol-conflict-with-gateway-1")
    set_attached(t, first, "listener-set-1-listener", "protocol-conflict-with-listener-set-listener")
    t.listener_conditions("ListenerSet", first, clash, "protocol-conflict-with-gateway-listener")

    second = Key(INFRA, "listenerset-with-protocol-conflict-with-gateway-2")
    set_refused(t, second, "ListenersNotValid")
    t.listener_conditions("ListenerSet", second, clash, "protocol-conflict-with-gateway-listener")

    third = Key(INFRA, "listenerset-with-protocol-conflict-with-listener-set-1")
    set_attached(t, third, "listener-set-2-listener")
    t.listener_conditions("ListenerSet", third, clash, "protocol-conflict-with-listener-set-listener")

    fourth = Key(INFRA, "listenerset-with-protocol-conflict-with-listener-set-2")
    set_refused(t, fourth, "ListenersNotValid")
    t.listener_conditions("ListenerSet", fourth, clash, "protocol-conflict-with-listener-set-listener")


TEST = ConformanceTest(
    short_name="ListenerSetProtocolConflict",
    description="Validate Listener Precedence when a ListenerSet listener has a protocol conflict",
    manifests=("listenerset-protocol-conflict.yaml",),
    features=FEATURES,
    body=body,
    source="conformance/tests/listenerset-protocol-conflict.go @ 4564255ac2c3",
)
